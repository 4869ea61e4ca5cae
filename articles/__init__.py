"""The article as data: front matter, Markdown parsing, safe HTML, anchors, sections and chunks."""
