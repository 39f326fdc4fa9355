"""The weekly run: recommendations, papermill notebooks, HTML export, email, ledger and lock."""
