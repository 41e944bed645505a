"""Themes and heatmap colour maps.

``themes.colormaps`` is UI-free (the engine colours PNGs with it);
``themes.builtin`` holds the Textual themes.
"""
