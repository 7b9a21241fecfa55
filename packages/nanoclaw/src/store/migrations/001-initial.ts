/** Chats, messages, scheduled tasks and their run logs. Times are milliseconds since the epoch. */
export default `
CREATE TABLE chats (
  jid TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  channel TEXT NOT NULL,
  last_message_at INTEGER
);

CREATE TABLE messages (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL,
  chat_jid TEXT NOT NULL,
  sender TEXT NOT NULL,
  sender_name TEXT NOT NULL,
  text TEXT NOT NULL,
  -- the channel's time of the message
  timestamp INTEGER NOT NULL,
  -- when this host stored it; strictly increasing, so router cursors can compare against it
  received_at INTEGER NOT NULL,
  from_assistant INTEGER NOT NULL DEFAULT 0 CHECK (from_assistant IN (0, 1)),
  -- on a reply: received_at of the last message it answers (lets a restart repair a cursor it missed)
  answers_up_to INTEGER,
  UNIQUE (chat_jid, id)
);
CREATE INDEX messages_by_chat ON messages (chat_jid, received_at);

CREATE TABLE scheduled_tasks (
  id TEXT PRIMARY KEY,
  group_folder TEXT NOT NULL,
  chat_jid TEXT NOT NULL,
  prompt TEXT NOT NULL,
  schedule_type TEXT NOT NULL CHECK (schedule_type IN ('cron', 'interval', 'once')),
  schedule_value TEXT NOT NULL,
  context_mode TEXT NOT NULL DEFAULT 'isolated' CHECK (context_mode IN ('isolated', 'group')),
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'completed')),
  next_run INTEGER,
  last_run INTEGER,
  last_result TEXT,
  created_at INTEGER NOT NULL
);
CREATE INDEX scheduled_tasks_due ON scheduled_tasks (status, next_run);

CREATE TABLE task_run_logs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  task_id TEXT NOT NULL REFERENCES scheduled_tasks (id) ON DELETE CASCADE,
  scheduled_for INTEGER NOT NULL,
  run_at INTEGER NOT NULL,
  duration_ms INTEGER,
  status TEXT NOT NULL CHECK (status IN ('running', 'success', 'error', 'interrupted')),
  result TEXT,
  error TEXT
);
CREATE INDEX task_run_logs_by_task ON task_run_logs (task_id, run_at);
`;
