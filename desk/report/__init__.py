"""Reports of the embedded desk: 日筛查 / 周派单 / 月统计 with charts (``jiesu report``)."""

from desk.report._charts import CHART_TITLES, render_charts
from desk.report._data import ReportInput, ReportTicket, Resolution, load_input
from desk.report._figures import OverdueTicket, Report, build_report, rates_by
from desk.report._html import data_uri, report_document, report_fragment
from desk.report._period import Period, Window, window
from desk.report._run import ReportFiles, make_report, write_report
from desk.report._topics import Topic, rising_topics

__all__ = [
    "CHART_TITLES",
    "OverdueTicket",
    "Period",
    "Report",
    "ReportFiles",
    "ReportInput",
    "ReportTicket",
    "Resolution",
    "Topic",
    "Window",
    "build_report",
    "data_uri",
    "load_input",
    "make_report",
    "rates_by",
    "render_charts",
    "report_document",
    "report_fragment",
    "rising_topics",
    "window",
    "write_report",
]
