/** The one description of the database for kysely. `Generated<>` marks columns the database fills. */
import type { ColumnType, Generated, Insertable, Selectable, Updateable } from "kysely";
import type { Quality } from "../lib/quality.js";

/** ISO-8601 UTC text with milliseconds, filled by SQLite on insert. */
type Timestamp = ColumnType<string, string | undefined, string>;

export type Role = "owner" | "admin" | "user" | "banned";
export type JobStatus =
  | "queued"
  | "downloading"
  | "processing"
  | "uploading"
  | "sending"
  | "done"
  | "failed"
  | "cancelled";
export const FINISHED_STATUSES: readonly JobStatus[] = ["done", "failed", "cancelled"];

export interface UsersTable {
  id: number;
  username: string | null;
  first_name: string | null;
  last_name: string | null;
  role: ColumnType<Role, Role | undefined, Role>;
  added_by: number | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  last_seen_at: string | null;
  /** Set by /removeuser: no access until added again (the row stays for the jobs that point at it). */
  removed_at: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface UserSettingsTable {
  user_id: number;
  quality: ColumnType<Quality, Quality | undefined, Quality>;
  upload_as: ColumnType<"media" | "document", "media" | "document" | undefined, "media" | "document">;
  destination_chat_id: number | null;
  caption_template: string | null;
  split_large: ColumnType<0 | 1, 0 | 1 | undefined, 0 | 1>;
  updated_at: Timestamp;
  /** 0008: the language chosen in /settings; null: the user's Telegram language. */
  language: "en" | "ru" | null;
  /** 0008: files over this many bytes are split; null: the account's limit. */
  split_bytes: number | null;
  /** 0008: the user's own JPEG thumbnail for their videos. */
  thumbnail_path: string | null;
  /** 0008: what the user's next message is for, and until when. */
  awaiting: "caption" | "thumbnail" | null;
  awaiting_until: string | null;
  /** 0009: 1 while the user has no default quality: site links get the quality buttons. */
  ask_quality: ColumnType<0 | 1, 0 | 1 | undefined, 0 | 1>;
}

export interface BotSettingsTable {
  key: string;
  value: string;
  updated_by: number | null;
  updated_at: Timestamp;
}

export interface ChatsTable {
  id: number;
  kind: "channel" | "group" | "private";
  purpose: "destination" | "log";
  title: string | null;
  username: string | null;
  owner_id: number | null;
  added_at: Timestamp;
}

export interface BatchesTable {
  id: Generated<number>;
  user_id: number;
  chat_id: number;
  source_name: string | null;
  total: number;
  status: ColumnType<
    "running" | "done" | "cancelled",
    "running" | undefined,
    "running" | "done" | "cancelled"
  >;
  status_message_id: number | null;
  created_at: Timestamp;
  finished_at: string | null;
  /** JSON [{ line, reason }]: lines of the file that never became jobs. */
  skipped: ColumnType<string, string | undefined, string>;
  /** The summary as rendered when the batch ended (Telegram HTML). */
  summary: string | null;
  /** Every chat has the summary (or refused it); null while one is owed. */
  summary_sent_at: string | null;
}

export interface FilesTable {
  id: Generated<number>;
  sha256: string;
  size: number;
  name: string;
  mime_type: string | null;
  kind: "video" | "audio" | "photo" | "document";
  account: "bot" | "user";
  document_id: string;
  access_hash: string;
  file_reference: Buffer;
  dc_id: number;
  duration: number | null;
  width: number | null;
  height: number | null;
  source_url: string | null;
  created_at: Timestamp;
}

export interface JobsTable {
  id: Generated<number>;
  user_id: number;
  batch_id: number | null;
  position: number | null;
  request_chat_id: number;
  request_message_id: number | null;
  destination_chat_id: number;
  status_message_id: number | null;
  source_url: string;
  source_kind: "http" | "ytdlp" | null;
  name: string | null;
  options: ColumnType<string, string | undefined, string>;
  status: ColumnType<JobStatus, JobStatus | undefined, JobStatus>;
  attempts: ColumnType<number, number | undefined, number>;
  bytes_total: number | null;
  bytes_done: ColumnType<number, number | undefined, number>;
  work_dir: string | null;
  download_path: string | null;
  upload_paths: string | null;
  error_code: string | null;
  error_message: string | null;
  /** 0011: the catalog key (src/bot/i18n) that words error_code for a chat, and its params as JSON. */
  error_key: string | null;
  error_params: string | null;
  download_ms: number | null;
  upload_ms: number | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  started_at: string | null;
  finished_at: string | null;
  /** Higher is claimed first. */
  priority: ColumnType<number, number | undefined, number>;
  /** Not claimed before this time; a retry moves it. */
  run_at: ColumnType<string, string | undefined, string>;
  /** The lease: the worker running the job, and until when. Both null or both set. */
  locked_by: string | null;
  locked_until: string | null;
  /** The last claim, for the round robin between users. */
  claimed_at: string | null;
  max_attempts: ColumnType<number, number | undefined, number>;
  cancel_requested: ColumnType<0 | 1, 0 | 1 | undefined, 0 | 1>;
  /** Paused by its user: it keeps its place and its finished steps, and is not claimed until resumed. */
  paused: ColumnType<0 | 1, 0 | 1 | undefined, 0 | 1>;
  /** JSON the steps keep to resume; opaque to the store. */
  checkpoint: ColumnType<string, string | undefined, string>;
  /** JSON list of child process-group ids running for the job. */
  pids: ColumnType<string, string | undefined, string>;
  /** The line of the batch file this job came from. */
  batch_line: number | null;
}

export interface DeliveriesTable {
  id: Generated<number>;
  job_id: number;
  file_id: number | null;
  part: ColumnType<number, number | undefined, number>;
  chat_id: number;
  target: "destination" | "log";
  random_id: string;
  message_id: number | null;
  created_at: Timestamp;
  sent_at: string | null;
}

export interface BatchSummariesTable {
  id: Generated<number>;
  batch_id: number;
  chat_id: number;
  target: "chat" | "log";
  random_id: string;
  /** 0 when an earlier attempt posted it (the re-send was a duplicate). */
  message_id: number | null;
  /** Why the chat refused it for good; it is skipped. */
  refused: string | null;
  created_at: Timestamp;
  sent_at: string | null;
}

export interface EventsTable {
  id: Generated<number>;
  at: Timestamp;
  category: "admin" | "analytics" | "system";
  action: string;
  actor_id: number | null;
  subject: string | null;
  data: ColumnType<string, string | undefined, string>;
}

export type TelegramAccount = "bot" | "user";

export interface UpdateStateTable {
  account: TelegramAccount;
  pts: number;
  qts: number;
  date: number;
  seq: number;
  updated_at: Timestamp;
}

export interface HandledUpdatesTable {
  account: TelegramAccount;
  key: string;
  status: "handling" | "done";
  attempts: ColumnType<number, number | undefined, number>;
  handled_at: Timestamp;
}

export type PeerKind = "user" | "group" | "channel";

export interface PeersTable {
  id: number;
  kind: PeerKind;
  access_hash: string | null;
  username: string | null;
  title: string | null;
  lang_code: string | null;
  is_bot: ColumnType<0 | 1, 0 | 1 | undefined, 0 | 1>;
  updated_at: Timestamp;
}

/** The numbers of a pruned day (HISTORY_DAYS); v_daily adds them to the live job rows. */
export interface DailyTotalsTable {
  day: string;
  jobs: number;
  done: number;
  failed: number;
  cancelled: number;
  users: number;
  bytes_sent: number | null;
  upload_ms: number | null;
  pruned_at: Timestamp;
}

/** A user's numbers from pruned job rows; v_users adds them to the live ones. */
export interface UserTotalsTable {
  user_id: number;
  jobs: number;
  done: number;
  failed: number;
  bytes_sent: ColumnType<number, number | undefined, number>;
  last_job_at: string | null;
}

/** Read-only views for operators (see scripts/inspect.sql). */
export interface QueueView {
  id: number;
  user_id: number;
  username: string | null;
  status: JobStatus;
  attempts: number;
  batch_id: number | null;
  source_url: string;
  percent: number | null;
  age_min: number;
  updated_at: string;
  priority: number;
  max_attempts: number;
  state: "running" | "lease expired" | "cancelling" | "paused" | "retry later" | "waiting";
  locked_by: string | null;
  locked_until: string | null;
  run_at: string;
  cancel_requested: 0 | 1;
  last_error: string | null;
}

/** v_daily: one row per UTC day, pruned history included. */
export interface DailyView {
  day: string;
  jobs: number;
  done: number;
  failed: number;
  cancelled: number;
  users: number;
  mib_sent: number | null;
  upload_mib_s: number | null;
}

/** v_users: each user's numbers, pruned history included. */
export interface UsersView {
  id: number;
  username: string | null;
  first_name: string | null;
  role: Role;
  last_seen_at: string | null;
  jobs: number;
  done: number;
  failed: number;
  mib_sent: number;
  last_job_at: string | null;
}

/** 0009: a question about a link (quality buttons, playlist confirm) and its deadline. */
export type LinkPromptState = "probing" | "asking" | "confirming" | "queued" | "expired" | "cancelled";
export interface LinkPromptsTable {
  id: string;
  user_id: number;
  chat_id: number;
  request_message_id: number | null;
  message_id: number | null;
  state: LinkPromptState;
  /** JSON, see src/bot/link-prompts.ts. */
  request: string;
  deadline: string;
  created_at: string;
  resolved_at: string | null;
  job_ids: string | null;
}

export interface Database {
  users: UsersTable;
  user_settings: UserSettingsTable;
  bot_settings: BotSettingsTable;
  chats: ChatsTable;
  batches: BatchesTable;
  files: FilesTable;
  jobs: JobsTable;
  deliveries: DeliveriesTable;
  batch_summaries: BatchSummariesTable;
  events: EventsTable;
  update_state: UpdateStateTable;
  handled_updates: HandledUpdatesTable;
  peers: PeersTable;
  daily_totals: DailyTotalsTable;
  user_totals: UserTotalsTable;
  v_queue: QueueView;
  v_daily: DailyView;
  v_users: UsersView;
  link_prompts: LinkPromptsTable;
}

export type User = Selectable<UsersTable>;
export type LinkPrompt = Selectable<LinkPromptsTable>;
export type NewUser = Insertable<UsersTable>;
export type UserSettings = Selectable<UserSettingsTable>;
export type Chat = Selectable<ChatsTable>;
export type NewChat = Insertable<ChatsTable>;
export type Batch = Selectable<BatchesTable>;
export type FileRecord = Selectable<FilesTable>;
export type NewFileRecord = Insertable<FilesTable>;
export type Job = Selectable<JobsTable>;
export type NewJob = Insertable<JobsTable>;
export type JobUpdate = Updateable<JobsTable>;
export type Delivery = Selectable<DeliveriesTable>;
export type BatchSummaryDelivery = Selectable<BatchSummariesTable>;
export type EventRecord = Selectable<EventsTable>;
export type UpdateState = Pick<Selectable<UpdateStateTable>, "pts" | "qts" | "date" | "seq">;
export type Peer = Selectable<PeersTable>;
export type NewPeer = Omit<Insertable<PeersTable>, "updated_at">;
