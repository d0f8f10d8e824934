"""Small building blocks every layer may use; they import nothing else from imgtui."""
