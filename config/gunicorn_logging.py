"""gunicorn's logger with config/redact.py's filter on its access and error logs: the access
log quotes every request line, and subscriber links carry their secret in the path
(Procfile: --logger-class config.gunicorn_logging.RedactingLogger)."""

from gunicorn.glogging import Logger

from config.redact import RedactSecrets


class RedactingLogger(Logger):
    def setup(self, cfg) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.addFilter(RedactSecrets())
