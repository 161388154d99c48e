"""The Gradio web UI: `build_app(assistant)` and `serve(assistant, host, port)` (see ui.app)."""

from ui.app import build_app, launch_options, serve

__all__ = ["build_app", "launch_options", "serve"]
