"""PDFs the store hands out or prints: member cards, receipt slips, the self-test page (and later coupons, surveys).

Everything here takes plain dataclasses and a path, never a session, so the same code serves the GUI, the command line
and the tests. Modules import ReportLab, so import them where a PDF is made, not at start-up.
"""
