"""onprem-bot: an offline, on-premise Korean document chatbot."""

__version__ = "0.1.0"
