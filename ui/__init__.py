"""newsrag's interfaces on `rag.Assistant`: the CLI (`ui.cli`), the Gradio page (`ui.app`), the
HTTP API and server (`ui.api`, `ui.server`). Nothing is imported here, so `newsrag ask` never
pays for loading Gradio."""
