"""The application layer: what imgtui does, with no Textual in it.

Paging a list, an upload run, parsing dropped paths, saving downloads, filling the demo
library. The TUI (`imgtui.ui`) and the command line call these; they call `imgtui.service`.
"""
