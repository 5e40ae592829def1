"""The owner's charts (issue 13): the figures behind every chart and the members behind a bar or a cell.

Plain typed results, no Qt: `ui/charts/` draws them with pyqtgraph. Each chart reads what the store already keeps
(the sales and points day totals, the stored segments and their counts per home branch, the members' spend per
branch and month and its packs, complaints, survey answers) with range conditions on indexed columns, and groups in
the database.
"""
