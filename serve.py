"""The app as an ASGI server: Streamlit's app (app.py) plus the routes that set and remove the
session cookie from the server, HttpOnly (views.session_cookie). `make run` starts it:

    .venv/bin/python -m streamlit run serve.py --server.port 8501
"""

from __future__ import annotations

import streamlit as st

from views.session_cookie import routes

app = st.App("app.py", routes=routes())
