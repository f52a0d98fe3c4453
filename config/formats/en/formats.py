"""The one way the console writes dates and times (FORMAT_MODULE_PATH in the settings).

Django's English formats mix "Nov. 24, 2026, 4:25 a.m." in change lists with "2026-11-24" in
forms and the dashboard's own times; operators compare times across pages, so every page uses
these. The dashboard's `when` filter reads DATETIME_FORMAT from here too.
"""

DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i T"
TIME_FORMAT = "H:i"
SHORT_DATE_FORMAT = DATE_FORMAT
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
