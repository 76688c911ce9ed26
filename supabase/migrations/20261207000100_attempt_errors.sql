-- Attempt errors a receiver or the platform can cause, told apart: a TLS failure is not a refused connection, a
-- receiver that speaks something other than HTTP/1.x is not an HTTP error status, and an attempt whose worker was
-- lost before it could record anything (attempt_lost) is recorded by the next claim of its delivery.
alter table public.webhook_attempts drop constraint webhook_attempts_error_check;
alter table public.webhook_attempts add constraint webhook_attempts_error_check
  check (error in ('timeout', 'connection_refused', 'tls_error', 'dns_failure', 'http_error', 'malformed_response',
                   'blocked_url', 'attempt_lost'));
