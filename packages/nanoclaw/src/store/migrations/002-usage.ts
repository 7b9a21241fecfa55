/**
 * Model usage per group and day, run retries and messages given up on, messages held for the main chat's
 * approval, the limit notices already sent, and why a task waits for a limit to reset.
 */
export default `
CREATE TABLE model_usage (
  -- YYYY-MM-DD in the host's time zone (TZ)
  day TEXT NOT NULL,
  group_folder TEXT NOT NULL,
  requests INTEGER NOT NULL DEFAULT 0,
  errors INTEGER NOT NULL DEFAULT 0,
  input_tokens INTEGER NOT NULL DEFAULT 0,
  output_tokens INTEGER NOT NULL DEFAULT 0,
  cache_creation_tokens INTEGER NOT NULL DEFAULT 0,
  cache_read_tokens INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (day, group_folder)
);

CREATE TABLE run_retries (
  day TEXT NOT NULL,
  group_folder TEXT NOT NULL,
  retries INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (day, group_folder)
);

CREATE TABLE failed_messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  chat_jid TEXT NOT NULL,
  group_folder TEXT NOT NULL,
  -- how many messages, and the received_at of the last one given up on
  messages INTEGER NOT NULL,
  up_to INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  reason TEXT NOT NULL,
  failed_at INTEGER NOT NULL
);

CREATE TABLE held_messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  chat_jid TEXT NOT NULL,
  message_id TEXT NOT NULL,
  sender TEXT NOT NULL,
  sender_name TEXT NOT NULL,
  text TEXT NOT NULL,
  timestamp INTEGER NOT NULL,
  held_at INTEGER NOT NULL,
  UNIQUE (chat_jid, message_id)
);

CREATE TABLE limit_notices (
  chat_jid TEXT NOT NULL,
  -- the limit and its period, e.g. group:day:tokens:2026-03-01
  period TEXT NOT NULL,
  PRIMARY KEY (chat_jid, period)
);

ALTER TABLE scheduled_tasks ADD COLUMN paused_reason TEXT;
`;
