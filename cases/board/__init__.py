"""The live operations board at /board/: where every call and unit stands, now (desk roles).

`selectors.py` reads the board in a constant number of statements; `views.py` serves the page
and its conditional update (ETag); `alerts.py` tells the on-duty supervisors of threshold
crossings through the notification outbox. docs/architecture.md, "The operations board".
"""
