"""inbox-watch: find the candidates whose interview-scheduling email went unanswered."""

__version__ = "0.1.0"
