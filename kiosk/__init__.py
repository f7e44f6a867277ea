"""足腰セルフチェック: an offline voice self-check kiosk for leg, lower-back and knee weakness."""

__version__ = "0.1.0"
