/**
 * Every text the bot shows, in English: the reference catalog whose keys every other language has (a test checks
 * that each catalog has the same keys and the same {placeholders}). Texts are Telegram HTML; {params} are escaped
 * when filled in, so a name holding "<b>" shows as written.
 */
export const en = {
  "error.user": "⚠️ {message}",
  "error.hint": "{hint}",
  "error.internal": "⚠️ Something went wrong on our side. The operator has the details.",
  "error.internal.next": "Try again in a minute; if it keeps happening, tell the operator.",

  "access.denied":
    "You do not have access to this bot yet.\nYour Telegram id: <code>{id}</code>\nSend this id to the bot's owner and ask them to run <code>/allow {id}</code>.",
  "access.denied.short": "You do not have access to this bot. Your id is {id}: send it to the owner.",

  "role.owner": "owner",
  "role.admin": "admin",
  "role.user": "user",
  "role.banned": "banned",

  "start.welcome":
    "<b>Hello, {name}!</b>\nSend me a link and I upload the file to Telegram (up to 2000 MiB a file).\nSeveral links: one per line; “link | new name” renames. A .txt list of links becomes a batch.\n\nYour id: <code>{id}</code> · role: {role}",
  "menu.queue": "📋 My queue",
  "menu.help": "❓ Help",

  "help.title": "<b>Commands</b>",
  "help.line": "/{name} — {description}",
  "help.usage":
    "Send links one per line; “link | new name” renames. Send a .txt list for a batch, or reply <code>/batch 3-10</code> to one to take links 3 to 10.",

  "cmd.start": "welcome and your id",
  "cmd.help": "what I can do",
  "cmd.queue": "your running and waiting jobs",
  "cmd.cancel": "cancel a job: /cancel 12, or /cancel all",
  "cmd.batch": "reply to a .txt list: /batch [from-to] [destination]",
  "cmd.allow": "let a user in: /allow ID or @username",
  "cmd.ban": "ban a user and cancel their jobs: /ban ID or @username",
  "cmd.promote": "make a user an admin: /promote ID or @username",
  "cmd.demote": "make an admin a user again: /demote ID or @username",

  "command.unknown": "I do not know /{name}. /help lists the commands.",
  "command.forbidden": "/{name} is not available to you. /help lists yours.",
  "text.hint": "Send me a link (http or https), or a .txt list of links. /help tells more.",
  "document.notText": "I take .txt lists of links only. Send links one per line in a .txt file.",

  "links.queued": "<b>Queued {count}</b>",
  "links.line": "#{id} · {name} · place {position}",
  "links.lineEta": "#{id} · {name} · place {position} · ≈ {eta}",
  "links.lineRunning": "#{id} · {name} · started",
  "links.tooMany":
    "Only the first {max} links of a message are taken; {skipped} were left out. Send a .txt list for more.",
  "links.invalid": "Not queued: {link} — {reason}",
  "links.existing": "These links were queued already: {ids}.",

  "limit.rate":
    "You reached the limit of {limit} requests a minute. It resets at {time} UTC (in {seconds} s); send the rest then.",
  "limit.queue":
    "You have {queued} unfinished jobs; the limit is {limit}. The limit frees up as your jobs finish: see /queue.",
  "limit.partial": "{queued} of {wanted} queued; the rest went over a limit:",

  "batch.queued": "<b>Batch #{batch}</b>: {count} links from {name} queued.",
  "batch.firstPlace": "First of them: place {position}.",
  "batch.rejected": "<b>Not queued</b>",
  "batch.rejectedLine": "Line {line}: {reason}",
  "batch.duplicate": "Line {line}: the same link as line {first}",
  "batch.more": "… and {count} more",
  "batch.empty": "The list has no link I can take.",
  "batch.needReply":
    "Reply <code>/batch</code> to a .txt list (for example <code>/batch 3-10 @channel</code>).",
  "batch.tooBig": "The list is {size}; at most {max} are accepted. Split it into several files.",
  "batch.noFile": "The message you replied to holds no .txt list.",

  "destination.notFound": "I cannot find the chat {chat}. Check the name, or make me a member first.",
  "destination.cannotPost": "I cannot post in {title}: make me an admin there, then try again.",
  "destination.notAllowed": "You may send files only here or to a chat an admin added for you.",

  "queue.empty": "Nothing of yours is queued or running. Send a link to start.",
  "queue.emptyAll": "Nothing is queued or running.",
  "queue.title": "<b>Your queue</b> · {running} running, {waiting} waiting in all",
  "queue.titleAll": "<b>Queue</b> · {running} running, {waiting} waiting",
  "queue.running": "#{id} · {name} · {status}{percent}",
  "queue.waiting": "#{id} · {name} · place {position}",
  "queue.waitingEta": "#{id} · {name} · place {position} · ≈ {eta}",
  "queue.later": "#{id} · {name} · tries again at {time} UTC",
  "queue.cancelling": "#{id} · {name} · cancelling",
  "queue.owner": "user {user}",
  "queue.more": "… and {count} more",

  "status.queued": "queued",
  "status.downloading": "downloading",
  "status.processing": "preparing",
  "status.uploading": "uploading",
  "status.sending": "sending",

  "cancel.usage": "<code>/cancel 12</code> cancels job 12; <code>/cancel all</code> cancels all of yours.",
  "cancel.done": "Cancelled: {ids}.",
  "cancel.stopping": "Stopping: {ids}. They end in a moment.",
  "cancel.none": "Nothing of yours to cancel.",
  "cancel.notFound": "You have no unfinished job #{id}. /queue lists yours.",

  "admin.usage": "Write <code>/{name} 123456789</code> or <code>/{name} @username</code>.",
  "admin.unknownUser": "I do not know {who}. Use their numeric id (they get it from /start).",
  "admin.owner": "The owner's role comes from the configuration; it cannot be changed here.",
  "admin.notOnAdmin": "Only the owner can change an admin's role.",
  "admin.self": "You cannot change your own role.",
  "admin.allowed": "User {who} may use the bot now.",
  "admin.banned": "User {who} is banned; {cancelled} of their jobs were cancelled.",
  "admin.promoted": "User {who} is an admin now.",
  "admin.demoted": "User {who} is a user again.",
  "admin.already": "User {who} is already {role}.",

  "callback.invalid": "This button is no longer valid.",
  "callback.notYours": "This button belongs to someone else.",
  "callback.unavailable": "The live status is not available yet.",

  // --- admin helper: admin and owner commands, per-user limits, feature switches ---
  "cmd.users": "the people with a role, page by page",
  "cmd.adduser": "let a user in: /adduser ID or @username [user|admin]",
  "cmd.removeuser": "take access away and cancel their jobs: /removeuser ID or @username",
  "cmd.unban": "lift a ban: /unban ID or @username",
  "cmd.channels": "the channels users may send files to",
  "cmd.addchannel": "add a destination channel: /addchannel @channel, an id or a t.me link",
  "cmd.removechannel": "remove a destination channel: /removechannel @channel or id",
  "cmd.logchannels": "the log channels that get a copy of every file",
  "cmd.addlog": "add a log channel: /addlog @channel or id",
  "cmd.removelog": "remove a log channel: /removelog @channel or id",
  "cmd.health": "connection, queue, disk, versions and recent errors",
  "cmd.backup": "a snapshot of the database, sent to you as a file",
  "cmd.limits": "per-user limits: /limits, or /limits jobs_per_hour 30",
  "cmd.features": "turn site downloads, batches, playlists and open access on or off",

  "users.title": "<b>Users</b> · {total} · page {page} of {pages}",
  "users.line": "{name} · <code>{id}</code> · {role}",
  "users.lineWithUsername": "{name} (@{username}) · <code>{id}</code> · {role}",
  "users.prev": "◀ Back",
  "users.next": "Next ▶",
  "adduser.usage":
    "Write <code>/adduser 123456789</code> or <code>/adduser @username</code>; add <code>admin</code> to make them an admin (owner only).",
  "adduser.adminOwnerOnly": "Only the owner can add admins. Leave out “admin” to add them as a user.",
  "removeuser.done": "User {who} has no access now; {cancelled} of their jobs were cancelled.",
  "removeuser.none": "User {who} has no access to take away.",
  "unban.notBanned": "{who} is not banned.",

  "channel.notFound": "I cannot find the chat {chat}. Check the name, or add me to it first.",
  "channel.notChannel": "{chat} is a person, not a channel or group.",
  "channel.notMember": "I am not a member of {title}. Add me as an admin there, then try again.",
  "channel.noRights":
    "I cannot post in {title}: make me an admin with the right to post messages, then try again.",
  "channels.title": "<b>Destination channels</b> · {count}",
  "channels.line": "• {chat}",
  "channels.empty": "No destination channels yet. Add one with <code>/addchannel @channel</code>.",
  "addchannel.usage":
    "Write <code>/addchannel @channel</code>, <code>/addchannel -1001234567890</code> or a t.me link.",
  "addchannel.done": "Added {chat}: users may send files there now.",
  "addchannel.already": "{chat} is a destination already.",
  "addchannel.isLog": "{chat} is a log channel. Remove it with /removelog first.",
  "removechannel.usage":
    "Write <code>/removechannel @channel</code> or <code>/removechannel -1001234567890</code>.",
  "removechannel.unknown": "{chat} is not one of the destination channels. /channels lists them.",
  "removechannel.done": "Removed {chat} from the destinations.",
  "logchannels.title": "<b>Log channels</b> · {count}",
  "logchannels.configured": "• {chat} · from the configuration (LOG_CHANNELS)",
  "logchannels.configuredUnresolved": "• {chat} · from the configuration (LOG_CHANNELS), not reachable now",
  "logchannels.added": "• {chat} · added here",
  "logchannels.empty": "No log channels. Add one with <code>/addlog @channel</code> or set LOG_CHANNELS.",
  "addlog.usage": "Write <code>/addlog @channel</code> or <code>/addlog -1001234567890</code>.",
  "addlog.done": "Added {chat}: it gets a copy of every file from now on (within a minute).",
  "addlog.already": "{chat} is a log channel already.",
  "addlog.configured": "{chat} is in LOG_CHANNELS already.",
  "addlog.isDestination": "{chat} is a destination channel. Remove it with /removechannel first.",
  "removelog.usage": "Write <code>/removelog @channel</code> or <code>/removelog -1001234567890</code>.",
  "removelog.unknown": "{chat} is not a log channel added here. /logchannels lists them.",
  "removelog.configured":
    "{chat} comes from the configuration (LOG_CHANNELS) and cannot be removed from the chat. Remove it from LOG_CHANNELS and restart.",
  "removelog.done": "Removed {chat}: it gets no more copies (within a minute).",

  "health.title": "<b>Health</b>",
  "health.telegram": "Telegram: {state}",
  "health.state.connected": "connected",
  "health.state.connecting": "connecting…",
  "health.state.disconnected": "disconnected",
  "health.queue": "Queue: {running} running, {waiting} waiting",
  "health.disk": "Disk: {free} free in the data folder (keeps {min} free)",
  "health.diskLow":
    "⚠️ Disk: only {free} free in the data folder, under the {min} to keep free: downloads are refused.",
  "health.diskUnknown": "Disk: could not read the free space of the data folder.",
  "health.uptime": "Up for {uptime}",
  "health.versions": "Versions: node {node} · ffmpeg {ffmpeg} · yt-dlp {ytdlp}",
  "health.noAnswer": "no answer",
  "health.ytdlpOld": "⚠️ yt-dlp is {days} days old (over {max}): sites change, update it.",
  "health.noErrors": "No job errors in the last 24 hours.",
  "health.errors": "Job errors in the last 24 hours:",
  "health.errorLine": "• <code>{code}</code> × {count}, last at {time} UTC",
  "health.noHost": "Disk, versions and uptime are not available in this process.",

  "backup.caption": "Medusa database backup, {size}",
  "backup.sent": "The backup is in our private chat.",
  "backup.unavailable": "Backups are not available in this process.",

  "limits.title": "<b>Per-user limits</b> (admins and the owner have none)",
  "limits.line": "{name}: {value} (configuration)",
  "limits.lineSet": "{name}: {value} (set here; the configuration says {configured})",
  "limits.help":
    "Change one: <code>/limits jobs_per_hour 30</code>, <code>/limits bytes_per_day 20GiB</code>; <code>/limits batch_lines default</code> goes back to the configuration.",
  "limits.usage": "Write <code>/limits</code>, or <code>/limits NAME VALUE</code> with NAME one of {names}.",
  "limits.badNumber": "{name} takes a whole number from 1 to {max}, or “default”.",
  "limits.badSize": "{name} takes a size such as 20GiB or 500MB (at most {max}), or “default”.",
  "limits.saved": "Saved {name}.",
  "limit.jobsPerHour":
    "You reached the limit of {limit} links an hour. It resets at {time} UTC (in {minutes} min); send the rest then.",
  "limit.bytesPerDay":
    "You reached the limit of {limit} a day ({used} delivered today). It resets at {time} UTC (midnight); send links then.",
  "limit.batchLines":
    "The list has {count} links; at most {limit} are taken from one list. Split it into several lists.",
  "batch.off": "Batches are turned off on this bot. Send links in a message instead.",

  "features.title": "<b>Features</b>",
  "features.line": "{feature}: {state}",
  "features.on": "on",
  "features.off": "off",
  "features.help": "Press a button to switch it.",
  "features.name.ytdlp": "Downloads from sites (yt-dlp)",
  "features.name.batches": "Batches (.txt lists)",
  "features.name.playlists": "Playlists",
  "features.name.open": "Open to everyone",
  "features.turnedOn": "{feature}: on",
  "features.turnedOff": "{feature}: off",
  "links.playlistOff": "playlists are turned off on this bot; send the link of one video",
  "callback.notAllowed": "This button is for the owner or an admin.",
  // ---- /settings, /history, /usage, /stats, /forgetme (usercmd) ----
  "cmd.settings": "how your files are sent: type, quality, caption, thumbnail, destination, language",
  "cmd.history": "your last jobs: /history or /history 30",
  "cmd.usage": "your jobs and bytes, and what is left of your limits",
  "cmd.stats": "jobs, success, bytes, speeds, top users and errors",
  "cmd.forgetme": "delete your history and settings",

  "settings.title": "<b>Settings</b>",
  "settings.line.as": "Send as: {value}",
  "settings.line.quality": "Quality: {value}",
  "settings.line.split": "Split files over: {value}",
  "settings.line.destination": "Send to: {value}",
  "settings.line.thumbnail": "Video thumbnail: {value}",
  "settings.line.language": "Language: {value}",
  "settings.preview": "<b>Caption preview</b>\n{preview}",
  "settings.as.media": "media",
  "settings.as.document": "document",
  "settings.thumbnail.custom": "your own picture",
  "settings.thumbnail.frame": "a frame of the video",
  "settings.quality.best": "best available",
  "settings.quality.audio": "audio only",
  "settings.split.limit": "the account's limit ({size})",
  "settings.language.auto": "as in your Telegram app",
  "settings.language.en": "English",
  "settings.language.ru": "Русский",
  "settings.destination.own": "this chat",
  "settings.button.quality": "🎞 Quality",
  "settings.button.split": "✂️ Split size",
  "settings.button.destination": "📍 Destination",
  "settings.button.language": "🌐 Language",
  "settings.button.caption": "✏️ Caption",
  "settings.button.captionReset": "↺ Default caption",
  "settings.button.thumbnail": "🖼 Set thumbnail",
  "settings.button.thumbnailRemove": "🗑 Remove thumbnail",
  "settings.button.back": "⬅️ Back",
  "settings.pick.quality": "<b>Quality</b>\nThe highest video quality to fetch, or the audio alone.",
  "settings.pick.split": "<b>Split size</b>\nFiles over this size are sent in parts.",
  "settings.pick.language": "<b>Language</b>",
  "settings.pick.destination": "<b>Destination</b>\nWhere your files go unless a /batch names another chat.",
  "settings.caption.ask":
    "<b>Caption template</b>\nSend me the new template as your next message (within 5 minutes). Now:\n<code>{template}</code>\nPlaceholders: {placeholders}\nTags: &lt;b&gt; &lt;i&gt; &lt;u&gt; &lt;s&gt; &lt;code&gt; &lt;a href&gt;",
  "settings.caption.refused": "⚠️ This template cannot be used:",
  "settings.caption.unknown": "{name} is not a placeholder I know. Known: {known}",
  "settings.caption.problem": "Line {line}, column {column}: {problem}",
  "settings.caption.tooLong":
    "With a sample file filled in it is {length} characters long; a caption holds at most {max}.",
  "settings.caption.saved": "✅ Caption template saved.",
  "settings.thumbnail.ask":
    "<b>Thumbnail</b>\nSend me a photo (JPEG or PNG) within 5 minutes; it becomes the thumbnail of your videos.",
  "settings.thumbnail.saved": "✅ Thumbnail saved ({width}×{height}).",
  "settings.thumbnail.unavailable": "Custom thumbnails are not available on this bot.",
  "settings.thumbnail.tooBig": "This image is too big; at most {max} is taken. Send a smaller photo.",
  "settings.thumbnail.notImage": "This is not a JPEG or PNG image. Send a photo.",
  "settings.thumbnail.unreadable": "I could not read this image. Send another photo.",
  "settings.privateOnly": "Do this in our private chat: I take the caption or the photo there.",
  "settings.thumbnail.dimensions":
    "This image is {width}×{height}; Telegram takes photos whose sides add up to at most 10000 and differ at most 20 times. Send another.",

  "history.title": "<b>Your last {count} jobs</b>",
  "history.usage": "<code>/history</code> shows your last 10 jobs; <code>/history 30</code> up to {max}.",
  "history.empty": "You have no jobs yet. Send a link to start.",
  "history.noSize": "size unknown",
  "history.done": '#{id} · {name} · {size} · ✅ <a href="{link}">delivered</a>',
  "history.doneHere": "#{id} · {name} · {size} · ✅ sent to your chat with me",
  "history.doneTo": "#{id} · {name} · {size} · ✅ delivered to {chat}",
  "history.failed": "#{id} · {name} · {size} · ❌ failed: {reason}",
  "history.cancelled": "#{id} · {name} · {size} · ⏹ cancelled",
  "history.active": "#{id} · {name} · {size} · ⏳ {status}",

  "usage.title": "<b>Your usage</b>",
  "usage.line": "{period}: {jobs} jobs, {bytes} delivered",
  "usage.today": "Today (UTC)",
  "usage.week": "Last 7 days",
  "usage.all": "In all",
  "usage.limits": "<b>Limits</b>",
  "usage.exempt": "As {role} you have no queue or rate limit.",
  "usage.queue": "Unfinished jobs: {used} of {limit} ({left} left)",
  "usage.rate": "Requests this minute: {used} of {limit} ({left} left)",
  "usage.extra": "{name}: {used} of {limit} ({left} left)",
  "usage.extraSet": "{name}: {value}",

  "stats.title": "<b>Statistics</b>",
  "stats.today": "Today (UTC)",
  "stats.week": "Last 7 days",
  "stats.all": "In all",
  "stats.period":
    "<b>{period}</b>\nJobs: {jobs} (done {done}, failed {failed}, cancelled {cancelled})\nSuccess: {rate}\nDelivered: {bytes}\nDownload: {down} · upload: {up}",
  "stats.users": "Top users: {list}",
  "stats.errors": "Top errors: {list}",
  "stats.none": "—",
  "stats.chart": "Delivered per day, {from} to {to} ({days} days; tallest bar {max}). {width}×{height} px.",

  "forget.ask":
    "<b>Forget me</b>\nThis deletes your job history, deliveries, batches, settings and thumbnail. Unfinished jobs are cancelled first. It cannot be undone.\nThe button works for {minutes} minutes.",
  "forget.yes": "🗑 Yes, forget me",
  "forget.no": "Keep my data",
  "forget.kept": "Nothing was deleted.",
  "forget.expired": "This confirmation expired. Send /forgetme again.",
  "forget.done": "Done: {jobs} jobs and {batches} batches deleted, your settings reset.",
  "forget.stopping": "{count} unfinished jobs are stopping; they are deleted as soon as they stop.",

  // --- notices to the owner, each sent once ---
  "notice.logRefused":
    "⚠️ The log channel <code>{chat}</code> refused a copy ({code}). I skip it and deliver everything else as usual. Give me the right to post there, or remove it with <code>/removelog {chat}</code>.",
  "notice.failures":
    "⚠️ {count} jobs failed in the last {minutes} minutes. Most often: {codes}. See /health for the recent errors and the log for details; I tell you again only after things recovered.",
  "notice.failuresRecovered": "✅ Jobs succeed again: the last {streak} finished fine.",
  "notice.diskLow":
    "⚠️ Only {free} free in the data folder (<code>{dir}</code>). Under {min} I refuse downloads. Free some space: old backups in data/backups, or a smaller HISTORY_DAYS.",
  "notice.diskRecovered": "✅ Disk space is back: {free} free in the data folder.",
  "notice.sessionStopped":
    "⚠️ The Premium user session stopped working ({code}): it was logged out or the account is gone. Files over 2000 MiB are split until you log in again: run <code>medusa login</code> on the server, then restart Medusa.",
  "notice.crashStart":
    "⚠️ Medusa started again after it stopped without a clean shutdown (a crash, a kill or a power loss). {resumed} unfinished jobs are resumed, {interrupted} of them were interrupted mid-step; nothing is lost. If it keeps happening, look at the log and at the server's memory.",
} as const;

export type MessageKey = keyof typeof en;
/** A catalog: a text for every key (a missing one fails typechecking and the catalog test). */
export type Catalog = Readonly<Record<MessageKey, string>>;
