"""The owner's charts (图表): pyqtgraph widgets over app.charts' figures, imported when the page is first opened."""
