"""The non-widget parts of the image preview: renderer choice, decoding, caching.

The widget itself is `imgtui.ui.widgets.preview.ImagePreview`. Import the submodules
(terminal, decode, loader, cache): importing this package alone loads nothing heavy.
"""
