"""The owner's charts (issue 13): the figures behind every chart and the members behind a bar or a cell.

Plain typed results, no Qt: `ui/charts/` draws them with pyqtgraph. Each chart reads what the store already keeps
(sales, the points ledger, the stored segments, member_month_totals, complaints, survey answers) with range
conditions on indexed columns, and groups in the database.
"""
