"""The only modules through which ratings reads tables other services own."""
