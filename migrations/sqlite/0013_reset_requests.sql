-- Password-reset requests, kept an hour for throttling per address and per client address.
CREATE TABLE reset_requests (
    email TEXT NOT NULL,
    ip TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX reset_requests_email ON reset_requests(email, at);
CREATE INDEX reset_requests_ip ON reset_requests(ip, at);
