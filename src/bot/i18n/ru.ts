/** Every text the bot shows, in Russian: the same keys and {placeholders} as en.ts (a test checks). */
import type { Catalog } from "./en.js";

export const ru: Catalog = {
  "error.user": "⚠️ {message}",
  "error.hint": "{hint}",
  "error.internal": "⚠️ У нас что-то пошло не так. Подробности есть у оператора.",
  "error.internal.short": "У нас что-то пошло не так. Подробности есть у оператора.",
  "error.internal.next": "Попробуйте ещё раз через минуту; если повторится, напишите оператору.",

  "access.denied":
    "У вас пока нет доступа к этому боту.\nВаш id в Telegram: <code>{id}</code>\nОтправьте этот id владельцу бота и попросите выполнить <code>/allow {id}</code>.",
  "access.denied.short": "У вас нет доступа к этому боту. Ваш id {id}: отправьте его владельцу.",

  "role.owner": "владелец",
  "role.admin": "администратор",
  "role.user": "пользователь",
  "role.banned": "заблокирован",

  "start.welcome":
    "<b>Здравствуйте, {name}!</b>\nПришлите ссылку, и я загружу файл в Telegram (до 2000 МиБ на файл).\nНесколько ссылок: по одной в строке; «ссылка | новое имя» переименовывает. Список ссылок в .txt станет пакетом.\n\nВаш id: <code>{id}</code> · роль: {role}",
  "menu.queue": "📋 Моя очередь",
  "menu.help": "❓ Помощь",

  "help.title": "<b>Команды</b>",
  "help.line": "/{name} — {description}",
  "help.usage":
    "Присылайте ссылки по одной в строке; «ссылка | новое имя» переименовывает. Пришлите список .txt для пакета или ответьте на него <code>/batch 3-10</code>, чтобы взять ссылки с 3 по 10.",

  "cmd.start": "приветствие и ваш id",
  "cmd.help": "что я умею",
  "cmd.queue": "ваши задачи: идущие и ожидающие",
  "cmd.cancel": "отменить задачу: /cancel 12 или /cancel all",
  "cmd.batch": "ответ на список .txt: /batch [от-до] [куда]",
  "cmd.allow": "дать доступ: /allow ID или @имя",
  "cmd.ban": "заблокировать и отменить задачи: /ban ID или @имя",
  "cmd.promote": "сделать администратором: /promote ID или @имя",
  "cmd.demote": "снова сделать пользователем: /demote ID или @имя",

  "command.unknown": "Я не знаю команды /{name}. Список команд: /help.",
  "command.forbidden": "Команда /{name} вам недоступна. Ваши команды: /help.",
  "text.hint": "Пришлите ссылку (http или https) или список ссылок в .txt. Подробнее: /help.",
  "document.notText": "Я принимаю только списки ссылок .txt. Пришлите ссылки по одной в строке в файле .txt.",

  "links.queued": "<b>В очереди: {count}</b>",
  "links.line": "#{id} · {name} · место {position}",
  "links.lineEta": "#{id} · {name} · место {position} · ≈ {eta}",
  "links.lineRunning": "#{id} · {name} · уже идёт",
  "links.tooMany":
    "Из сообщения взяты только первые {max} ссылок; {skipped} пропущено. Для большего пришлите список .txt.",
  "links.invalid": "Не в очереди: {link} — {reason}",
  "links.existing": "Эти ссылки уже были в очереди: {ids}.",

  "limit.rate":
    "Достигнут предел: {limit} запросов в минуту. Он сбросится в {time} UTC (через {seconds} с); пришлите остальное тогда.",
  "limit.queue":
    "У вас {queued} незавершённых задач; предел — {limit}. Место освободится, когда задачи завершатся: см. /queue.",
  "limit.partial": "В очереди {queued} из {wanted}; остальное превысило предел:",

  "batch.queued": "<b>Пакет #{batch}</b>: в очереди {count} ссылок из {name}.",
  "batch.firstPlace": "Первая из них: место {position}.",
  "batch.rejected": "<b>Не в очереди</b>",
  "batch.rejectedLine": "Строка {line}: {reason}",
  "batch.duplicate": "Строка {line}: та же ссылка, что в строке {first}",
  "batch.more": "… и ещё {count}",
  "summary.title": "Пакет завершён",
  "summary.counts": "Готово: {done} · Ошибки: {failed} · Пропущено: {skipped} · Отменено: {cancelled}",
  "summary.delivered": "Доставлено {size} за {time}",
  "summary.failed": "Ошибки",
  "summary.line": "Строка {line}: {reason}",
  "summary.lineNamed": "Строка {line} · {name}: {reason}",
  "summary.skipped": "пропущена: {reason}",
  "summary.unknownReason": "Ошибка по неизвестной причине.",
  "batch.empty": "В списке нет ни одной ссылки, которую я могу взять.",
  "batch.needReply":
    "Ответьте <code>/batch</code> на список .txt (например, <code>/batch 3-10 @channel</code>).",
  "batch.tooBig": "Список весит {size}; принимается не больше {max}. Разбейте его на несколько файлов.",
  "batch.noFile": "В сообщении, на которое вы ответили, нет списка .txt.",

  // --- /merge ---
  "cmd.merge": "ответ на пакет (его список или итог): его видео в один файл",
  "merge.needReply":
    "Ответьте <code>/merge</code> на пакет: на список .txt, с которого он начался, или на его итог.",
  "merge.notBatch":
    "Сообщение, на которое вы ответили, не относится к известному мне пакету. Ответьте на список .txt или на итог пакета.",
  "merge.notYours":
    "Пакет #{batch} принадлежит другому пользователю: объединить его может только он (или администратор).",
  "merge.running": "Пакет #{batch} ещё выполняется. Объедините его, когда придёт итог.",
  "merge.tooFew": "В пакете #{batch} доставлено видео: {count}; для объединения нужно хотя бы два.",
  "merge.tooMany":
    "В пакете #{batch} видео: {count}; за раз объединяется не больше {max}. Поставьте часть списка через <code>/batch от-до</code> и объедините её.",
  "merge.tooBig":
    "Видео пакета #{batch} весят вместе {size}; объединяется не больше {max} (иначе файл ушёл бы больше чем {parts} частями).",
  "merge.queued": "<b>Объединение #{job}</b>: видео пакета #{batch} ({count}) в один файл, в порядке списка.",
  "merge.skipped": "Пропущено файлов, которые не видео: {count}.",

  "destination.notFound": "Не могу найти чат {chat}. Проверьте имя или сначала добавьте меня туда.",
  "destination.cannotPost": "Я не могу писать в {title}: сделайте меня там администратором и повторите.",
  "destination.notAllowed":
    "Файлы можно отправлять только сюда или в чат, который для вас добавил администратор.",

  "queue.empty": "У вас ничего нет в очереди. Пришлите ссылку, чтобы начать.",
  "queue.emptyAll": "Очередь пуста.",
  "queue.title": "<b>Ваша очередь</b> · всего идёт {running}, ждёт {waiting}",
  "queue.titleAll": "<b>Очередь</b> · идёт {running}, ждёт {waiting}",
  "queue.running": "#{id} · {name} · {status}{percent}",
  "queue.waiting": "#{id} · {name} · место {position}",
  "queue.waitingEta": "#{id} · {name} · место {position} · ≈ {eta}",
  "queue.later": "#{id} · {name} · повтор в {time} UTC",
  "queue.cancelling": "#{id} · {name} · отменяется",
  "queue.owner": "пользователь {user}",
  "queue.more": "… и ещё {count}",

  "status.queued": "в очереди",
  "status.downloading": "скачивается",
  "status.processing": "готовится",
  "status.uploading": "загружается",
  "status.sending": "отправляется",

  "cancel.usage": "<code>/cancel 12</code> отменяет задачу 12; <code>/cancel all</code> — все ваши.",
  "cancel.done": "Отменено: {ids}.",
  "cancel.stopping": "Останавливаются: {ids}. Сейчас завершатся.",
  "cancel.none": "У вас нечего отменять.",
  "cancel.notFound": "У вас нет незавершённой задачи #{id}. Ваши задачи: /queue.",

  "admin.usage": "Напишите <code>/{name} 123456789</code> или <code>/{name} @username</code>.",
  "admin.unknownUser": "Я не знаю {who}. Используйте числовой id (его показывает /start).",
  "admin.owner": "Роль владельца задаётся в настройках; здесь её не изменить.",
  "admin.notOnAdmin": "Роль администратора может менять только владелец.",
  "admin.self": "Свою роль изменить нельзя.",
  "admin.allowed": "Пользователь {who} теперь может пользоваться ботом.",
  "admin.banned": "Пользователь {who} заблокирован; отменено его задач: {cancelled}.",
  "admin.promoted": "Пользователь {who} теперь администратор.",
  "admin.demoted": "Пользователь {who} снова обычный пользователь.",
  "admin.already": "Пользователь {who} уже {role}.",

  "callback.invalid": "Эта кнопка больше не действует.",
  "callback.notYours": "Эта кнопка не для вас.",
  "callback.unavailable": "Живой статус пока недоступен.",

  // --- admin helper: admin and owner commands, per-user limits, feature switches ---
  "cmd.users": "люди с ролями, по страницам",
  "cmd.adduser": "дать доступ: /adduser ID или @имя [user|admin]",
  "cmd.removeuser": "забрать доступ и отменить задачи: /removeuser ID или @имя",
  "cmd.unban": "снять блокировку: /unban ID или @имя",
  "cmd.channels": "каналы, куда пользователи могут отправлять файлы",
  "cmd.addchannel": "добавить канал назначения: /addchannel @канал, id или ссылка t.me",
  "cmd.removechannel": "убрать канал назначения: /removechannel @канал или id",
  "cmd.logchannels": "лог-каналы, куда идёт копия каждого файла",
  "cmd.addlog": "добавить лог-канал: /addlog @канал или id",
  "cmd.removelog": "убрать лог-канал: /removelog @канал или id",
  "cmd.health": "связь, очередь, диск, версии и последние ошибки",
  "cmd.backup": "снимок базы данных, присылается вам файлом",
  "cmd.limits": "лимиты пользователей: /limits или /limits jobs_per_hour 30",
  "cmd.features": "включить или выключить сайты, пакеты, плейлисты и открытый доступ",

  "users.title": "<b>Пользователи</b> · {total} · страница {page} из {pages}",
  "users.line": "{name} · <code>{id}</code> · {role}",
  "users.lineWithUsername": "{name} (@{username}) · <code>{id}</code> · {role}",
  "users.prev": "◀ Назад",
  "users.next": "Дальше ▶",
  "adduser.usage":
    "Напишите <code>/adduser 123456789</code> или <code>/adduser @имя</code>; добавьте <code>admin</code>, чтобы сделать администратором (только владелец).",
  "adduser.adminOwnerOnly":
    "Добавлять администраторов может только владелец. Уберите «admin», чтобы добавить пользователя.",
  "removeuser.done": "У пользователя {who} больше нет доступа; отменено задач: {cancelled}.",
  "removeuser.none": "У пользователя {who} нет доступа, который можно забрать.",
  "unban.notBanned": "{who} не заблокирован.",

  "channel.notFound": "Не могу найти чат {chat}. Проверьте имя или сначала добавьте меня туда.",
  "channel.notChannel": "{chat} — это человек, а не канал или группа.",
  "channel.notMember": "Я не состою в {title}. Добавьте меня туда администратором и попробуйте снова.",
  "channel.noRights":
    "Я не могу писать в {title}: сделайте меня администратором с правом публикации сообщений и попробуйте снова.",
  "channels.title": "<b>Каналы назначения</b> · {count}",
  "channels.line": "• {chat}",
  "channels.empty": "Каналов назначения пока нет. Добавьте: <code>/addchannel @канал</code>.",
  "addchannel.usage":
    "Напишите <code>/addchannel @канал</code>, <code>/addchannel -1001234567890</code> или ссылку t.me.",
  "addchannel.done": "Добавлен {chat}: пользователи теперь могут отправлять туда файлы.",
  "addchannel.already": "{chat} уже среди каналов назначения.",
  "addchannel.isLog": "{chat} — лог-канал. Сначала уберите его командой /removelog.",
  "removechannel.usage":
    "Напишите <code>/removechannel @канал</code> или <code>/removechannel -1001234567890</code>.",
  "removechannel.unknown": "{chat} не среди каналов назначения. Список: /channels.",
  "removechannel.done": "{chat} убран из каналов назначения.",
  "logchannels.title": "<b>Лог-каналы</b> · {count}",
  "logchannels.configured": "• {chat} · из конфигурации (LOG_CHANNELS)",
  "logchannels.configuredUnresolved": "• {chat} · из конфигурации (LOG_CHANNELS), сейчас недоступен",
  "logchannels.added": "• {chat} · добавлен здесь",
  "logchannels.empty": "Лог-каналов нет. Добавьте: <code>/addlog @канал</code> или задайте LOG_CHANNELS.",
  "addlog.usage": "Напишите <code>/addlog @канал</code> или <code>/addlog -1001234567890</code>.",
  "addlog.done": "Добавлен {chat}: теперь туда идёт копия каждого файла (в течение минуты).",
  "addlog.already": "{chat} уже лог-канал.",
  "addlog.configured": "{chat} уже есть в LOG_CHANNELS.",
  "addlog.isDestination": "{chat} — канал назначения. Сначала уберите его командой /removechannel.",
  "removelog.usage": "Напишите <code>/removelog @канал</code> или <code>/removelog -1001234567890</code>.",
  "removelog.unknown": "{chat} не среди лог-каналов, добавленных здесь. Список: /logchannels.",
  "removelog.configured":
    "{chat} задан в конфигурации (LOG_CHANNELS), из чата его убрать нельзя. Уберите его из LOG_CHANNELS и перезапустите.",
  "removelog.done": "{chat} убран: копий туда больше не будет (в течение минуты).",

  "health.title": "<b>Состояние</b>",
  "health.telegram": "Telegram: {state}",
  "health.state.connected": "подключён",
  "health.state.connecting": "подключается…",
  "health.state.disconnected": "нет связи",
  "health.queue": "Очередь: идут {running}, ждут {waiting}",
  "health.disk": "Диск: свободно {free} в папке данных (держим свободными {min})",
  "health.diskLow": "⚠️ Диск: свободно только {free} в папке данных, меньше {min}: загрузки отклоняются.",
  "health.diskUnknown": "Диск: не удалось узнать свободное место в папке данных.",
  "health.uptime": "Работает {uptime}",
  "health.versions": "Версии: node {node} · ffmpeg {ffmpeg} · yt-dlp {ytdlp}",
  "health.noAnswer": "не отвечает",
  "health.ytdlpOld": "⚠️ yt-dlp уже {days} дн. (больше {max}): сайты меняются, обновите его.",
  "health.noErrors": "Ошибок задач за последние 24 часа нет.",
  "health.errors": "Ошибки задач за последние 24 часа:",
  "health.errorLine": "• <code>{code}</code> × {count}, последняя в {time} UTC",
  "health.noHost": "Диск, версии и время работы в этом процессе недоступны.",

  "backup.caption": "Резервная копия базы Medusa, {size}",
  "backup.sent": "Резервная копия в нашем личном чате.",
  "backup.unavailable": "Резервные копии в этом процессе недоступны.",
  "backup.postgres":
    "База данных — PostgreSQL: делайте её резервную копию на сервере через pg_dump (например, pg_dump -Fc).",

  "limits.title": "<b>Лимиты пользователей</b> (у администраторов и владельца их нет)",
  "limits.line": "{name}: {value} (конфигурация)",
  "limits.lineSet": "{name}: {value} (задано здесь; в конфигурации {configured})",
  "limits.help":
    "Изменить: <code>/limits jobs_per_hour 30</code>, <code>/limits bytes_per_day 20GiB</code>; <code>/limits batch_lines default</code> возвращает значение конфигурации.",
  "limits.usage":
    "Напишите <code>/limits</code> или <code>/limits ИМЯ ЗНАЧЕНИЕ</code>, где ИМЯ — одно из: {names}.",
  "limits.badNumber": "{name} — целое число от 1 до {max} или «default».",
  "limits.badSize": "{name} — размер вроде 20GiB или 500MB (не больше {max}) или «default».",
  "limits.saved": "Сохранено: {name}.",
  "limit.jobsPerHour":
    "Вы достигли лимита в {limit} ссылок в час. Он сбросится в {time} UTC (через {minutes} мин); пришлите остальное тогда.",
  "limit.bytesPerDay":
    "Вы достигли лимита {limit} в сутки (сегодня доставлено {used}). Он сбросится в {time} UTC (в полночь); пришлите ссылки тогда.",
  "limit.batchLines":
    "В списке {count} ссылок; из одного списка берётся не больше {limit}. Разбейте его на несколько.",
  "batch.off": "Пакеты в этом боте выключены. Пришлите ссылки сообщением.",

  "features.title": "<b>Возможности</b>",
  "features.line": "{feature}: {state}",
  "features.on": "вкл.",
  "features.off": "выкл.",
  "features.help": "Нажмите кнопку, чтобы переключить.",
  "features.name.ytdlp": "Загрузка с сайтов (yt-dlp)",
  "features.name.batches": "Пакеты (списки .txt)",
  "features.name.playlists": "Плейлисты",
  "features.name.open": "Открыт для всех",
  "features.turnedOn": "{feature}: вкл.",
  "features.turnedOff": "{feature}: выкл.",
  "links.playlistOff": "плейлисты в этом боте выключены; пришлите ссылку на одно видео",
  "callback.notAllowed": "Эта кнопка для владельца или администратора.",
  // ---- /settings, /history, /usage, /stats, /forgetme (usercmd) ----
  "cmd.settings": "как отправлять файлы: тип, качество, подпись, обложка, куда, язык",
  "cmd.history": "ваши последние задачи: /history или /history 30",
  "cmd.usage": "ваши задачи и объём, и сколько осталось до лимитов",
  "cmd.stats": "задачи, успех, объём, скорости, активные пользователи и ошибки",
  "cmd.forgetme": "удалить вашу историю и настройки",

  "settings.title": "<b>Настройки</b>",
  "settings.line.as": "Отправлять как: {value}",
  "settings.line.quality": "Качество: {value}",
  "settings.line.split": "Делить файлы больше: {value}",
  "settings.line.destination": "Куда: {value}",
  "settings.line.thumbnail": "Обложка видео: {value}",
  "settings.line.language": "Язык: {value}",
  "settings.preview": "<b>Так будет выглядеть подпись</b>\n{preview}",
  "settings.as.media": "медиа",
  "settings.as.document": "документ",
  "settings.thumbnail.custom": "ваша картинка",
  "settings.thumbnail.frame": "кадр из видео",
  "settings.quality.best": "лучшее доступное",
  "settings.quality.audio": "только звук",
  "settings.split.limit": "лимит аккаунта ({size})",
  "settings.language.auto": "как в вашем приложении Telegram",
  "settings.language.en": "English",
  "settings.language.ru": "Русский",
  "settings.destination.own": "этот чат",
  "settings.button.quality": "🎞 Качество",
  "settings.button.split": "✂️ Размер части",
  "settings.button.destination": "📍 Куда",
  "settings.button.language": "🌐 Язык",
  "settings.button.caption": "✏️ Подпись",
  "settings.button.captionReset": "↺ Подпись по умолчанию",
  "settings.button.thumbnail": "🖼 Задать обложку",
  "settings.button.thumbnailRemove": "🗑 Убрать обложку",
  "settings.button.back": "⬅️ Назад",
  "settings.pick.quality":
    "<b>Качество</b>\nНаибольшее качество видео для скачивания или только звук. «Спрашивать каждый раз» (по умолчанию) показывает кнопки с качествами, которые есть у ссылки; без нажатия начинается лучшее.",
  "settings.pick.split": "<b>Размер части</b>\nФайлы больше этого размера отправляются частями.",
  "settings.pick.language": "<b>Язык</b>",
  "settings.pick.destination":
    "<b>Куда отправлять</b>\nКуда идут ваши файлы, если /batch не называет другой чат.",
  "settings.caption.ask":
    "<b>Шаблон подписи</b>\nПришлите новый шаблон следующим сообщением (в течение 5 минут). Сейчас:\n<code>{template}</code>\nПодстановки: {placeholders}\nТеги: &lt;b&gt; &lt;i&gt; &lt;u&gt; &lt;s&gt; &lt;code&gt; &lt;a href&gt;",
  "settings.caption.refused": "⚠️ Этот шаблон использовать нельзя:",
  "settings.caption.unknown": "{name} — неизвестная подстановка. Известные: {known}",
  "settings.caption.problem": "Строка {line}, столбец {column}: {problem}",
  "settings.caption.tooLong":
    "С данными примерного файла подпись занимает {length} символов; в подписи помещается не больше {max}.",
  "settings.caption.saved": "✅ Шаблон подписи сохранён.",
  "settings.thumbnail.ask":
    "<b>Обложка</b>\nПришлите фото (JPEG или PNG) в течение 5 минут; оно станет обложкой ваших видео.",
  "settings.thumbnail.saved": "✅ Обложка сохранена ({width}×{height}).",
  "settings.thumbnail.unavailable": "Свои обложки в этом боте недоступны.",
  "settings.thumbnail.tooBig":
    "Картинка слишком большая; принимается не больше {max}. Пришлите фото поменьше.",
  "settings.thumbnail.notImage": "Это не картинка JPEG или PNG. Пришлите фото.",
  "settings.thumbnail.unreadable": "Не получилось прочитать картинку. Пришлите другое фото.",
  "settings.privateOnly": "Это делается в нашем личном чате: подпись или фото я принимаю там.",
  "settings.thumbnail.dimensions":
    "Картинка {width}×{height}; Telegram принимает фото, у которых сумма сторон не больше 10000 и стороны различаются не больше чем в 20 раз. Пришлите другую.",

  "history.title": "<b>Ваши последние задачи: {count}</b>",
  "history.usage":
    "<code>/history</code> показывает 10 последних задач; <code>/history 30</code> — до {max}.",
  "history.empty": "У вас пока нет задач. Пришлите ссылку, чтобы начать.",
  "history.noSize": "размер неизвестен",
  "history.done": '#{id} · {name} · {size} · ✅ <a href="{link}">доставлено</a>',
  "history.doneHere": "#{id} · {name} · {size} · ✅ отправлено в ваш чат со мной",
  "history.doneTo": "#{id} · {name} · {size} · ✅ доставлено в {chat}",
  "history.failed": "#{id} · {name} · {size} · ❌ не удалось: {reason}",
  "history.cancelled": "#{id} · {name} · {size} · ⏹ отменено",
  "history.active": "#{id} · {name} · {size} · ⏳ {status}",

  "usage.title": "<b>Ваше использование</b>",
  "usage.line": "{period}: задач {jobs}, доставлено {bytes}",
  "usage.today": "Сегодня (UTC)",
  "usage.week": "За 7 дней",
  "usage.all": "Всего",
  "usage.limits": "<b>Лимиты</b>",
  "usage.exempt": "У вас роль «{role}»: лимитов на очередь и частоту нет.",
  "usage.queue": "Незавершённые задачи: {used} из {limit} (осталось {left})",
  "usage.rate": "Запросы за эту минуту: {used} из {limit} (осталось {left})",
  "usage.extra": "{name}: {used} из {limit} (осталось {left})",
  "usage.extraSet": "{name}: {value}",

  "stats.title": "<b>Статистика</b>",
  "stats.today": "Сегодня (UTC)",
  "stats.week": "За 7 дней",
  "stats.all": "Всего",
  "stats.period":
    "<b>{period}</b>\nЗадач: {jobs} (готово {done}, ошибок {failed}, отменено {cancelled})\nУспех: {rate}\nДоставлено: {bytes}\nСкачивание: {down} · загрузка: {up}",
  "stats.users": "Активнее всех: {list}",
  "stats.errors": "Частые ошибки: {list}",
  "stats.none": "—",
  "stats.chart":
    "Доставлено по дням, с {from} по {to} ({days} дн.; самый высокий столбец {max}). {width}×{height} пикс.",

  "forget.ask":
    "<b>Забыть меня</b>\nБудут удалены история задач, доставки, пакеты, настройки и обложка. Незавершённые задачи сначала отменяются. Отменить это нельзя.\nКнопка действует {minutes} минут.",
  "forget.yes": "🗑 Да, забудьте меня",
  "forget.no": "Оставить мои данные",
  "forget.kept": "Ничего не удалено.",
  "forget.expired": "Срок подтверждения истёк. Отправьте /forgetme ещё раз.",
  "forget.done": "Готово: удалено задач — {jobs}, пакетов — {batches}, настройки сброшены.",
  "forget.stopping":
    "Незавершённые задачи останавливаются ({count}); они будут удалены, как только остановятся.",

  // --- errors, by code (src/errors.ts; the catalog test checks every code thrown under src/) ---
  "err.URL_INVALID": "Это не ссылка.",
  "err.URL_NO_HOST": "В этой ссылке нет имени сайта.",
  "err.URL_SCHEME_NAMED": "Скачиваются только ссылки http и https, а не {scheme}.",
  "err.URL_SCHEME_NOT_ALLOWED": "Скачиваются только ссылки http и https.",
  "err.URL_REDIRECT_SCHEME": "Ссылка перенаправляет на адрес не http и не https — такой не скачивается.",
  "err.URL_PRIVATE_ADDRESS":
    "Ссылка ведёт на частный или зарезервированный адрес сети — такие бот не скачивает.",
  "err.DNS_NOT_FOUND": "Не удалось найти сайт по имени. Проверьте ссылку.",
  "err.DNS_TIMEOUT": "Имя сайта не удалось определить вовремя. Попробуйте позже.",
  "err.HTTP_BAD_RANGE": "Сервер прислал некорректный ответ. Попробуйте позже.",
  "err.HTTP_IS_WEB_PAGE": "Эта ссылка ведёт на веб-страницу, а не на файл. Пришлите прямую ссылку на файл.",
  "err.HTTP_WEB_PAGE_INSTEAD":
    "Ссылка указывает на файл, но сервер прислал веб-страницу. Возможно, ссылка устарела — скопируйте её заново.",
  "err.HTTP_FILE_CHANGED": "Файл изменился на сервере во время скачивания. Попробуйте ещё раз.",
  "err.HTTP_AUTH": "Сервер ответил {status}. Возможно, ссылка устарела или нужен вход.",
  "err.HTTP_GONE": "Сервер ответил {status}. Проверьте ссылку: возможно, файл удалён.",
  "err.HTTP_SERVER": "Сервер ответил {status}. У сайта неполадки — попробуйте позже.",
  "err.HTTP_STATUS": "Сервер ответил {status}.",
  "err.HTTP_INCOMPLETE": "Сервер закрыл соединение, не отправив файл целиком. Попробуйте ещё раз.",
  "err.HTTP_TIMEOUT": "Сервер не ответил вовремя. Попробуйте позже.",
  "err.HTTP_STALLED": "Сервер перестал присылать данные. Попробуйте позже.",
  "err.TOO_LARGE": "Файл больше допустимых {limit}.",
  "err.TOO_MANY_REDIRECTS": "Ссылка перенаправляет больше {max} раз.",
  "err.NAME_TAKEN":
    "Слишком много файлов с таким именем ждут своей очереди. Попробуйте, когда они закончатся.",
  "err.MERGE_TOO_FEW": "В пакете больше нет двух доставленных видео, чтобы их склеить.",
  "err.MERGE_SOURCE_GONE":
    "Одно из видео пакета отправлено пользовательской сессией, а она сейчас не подключена. Попробуйте снова, когда оператор вернёт сессию.",
  "err.TRIM_NOT_MEDIA": "Обрезать можно только видео или звук; по этой ссылке пришёл файл другого типа.",
  "err.TRIM_PAST_END":
    "Обрезка начинается после конца: файл длится {duration}. Пришлите ссылку снова с началом внутри файла.",
  "err.DISK_FULL": "Сейчас на сервере не хватает места для этого файла. Попробуйте позже.",
  "err.DISK_FLOOR_REACHED":
    "Скачивание остановлено: на сервере заканчивается место; ничего не сохранено. Попробуйте позже.",
  "err.TLS_ERROR": "Не удалось проверить HTTPS-сертификат сайта, поэтому ничего не скачано.",
  "err.CONNECTION_REFUSED": "Сервер отказал в соединении. Попробуйте позже.",
  "err.CONNECTION_LOST": "Соединение с сервером прервалось и не восстановилось. Попробуйте ещё раз.",
  "err.DOWNLOAD_FAILED": "Скачать не удалось. Попробуйте ещё раз.",
  "err.BATCH_TOO_LARGE": "Список слишком большой: не больше {max}. Разделите его на несколько файлов.",
  "err.BATCH_TOO_MANY_LINES":
    "В списке {lines} строк, а принимается не больше {max}. Разделите его на несколько файлов.",
  "err.BATCH_BAD_RANGE": "«{range}» — не диапазон; напишите начало-конец, например 3-10.",
  "err.BATCH_RANGE_START": "В списке всего {count} ссылок, а диапазон начинается с {start}.",
  "err.BATCH_LINE_TOO_LONG": "длиннее {max} символов",
  "err.BATCH_LINE_NO_LINK": "ссылка не найдена (ожидается «название: https://…» или ссылка)",
  "err.BATCH_LINE_BAD_LINK": "некорректная ссылка: {link}",
  "err.BATCH_LINE_SCHEME": "только ссылки http и https, а не {scheme}",
  "err.LOCAL_FILE_MISSING": "Файла {file} больше нет.",
  "err.LOCAL_FILE_NOT_FILE": "{file} — не файл.",
  "err.LOCAL_FILE_REFUSED": "Скачиваются только ссылки http(s).",
  "err.YTDLP_DISABLED":
    "Эта ссылка — веб-страница, а скачивание с сайтов в этом боте выключено. Пришлите прямую ссылку на файл.",
  "err.YTDLP_NO_OUTPUT": "Скачивание закончилось, но файла нет. Подробности есть у оператора.",
  "err.YTDLP_BAD_JSON":
    "Не удалось разобрать страницу сайта. Попробуйте позже; подробности есть у оператора.",
  "err.YTDLP_DRM_PROTECTED":
    "Это видео защищено DRM (управлением цифровыми правами). Medusa не скачивает такие материалы и никогда не обходит DRM.",
  "err.YTDLP_UNSUPPORTED_URL":
    "По этой ссылке Medusa не находит видео. Пришлите ссылку на страницу с видео или на медиафайл.",
  "err.YTDLP_VIDEO_UNAVAILABLE": "Это видео закрыто или удалено.",
  "err.YTDLP_LOGIN_REQUIRED":
    "Для этого видео нужен вход в аккаунт. Оператор может дать Medusa cookies аккаунта (YTDLP_COOKIES_FILE).",
  "err.YTDLP_GEO_BLOCKED": "Это видео недоступно в стране, где работает Medusa.",
  "err.YTDLP_NOT_FOUND": "Сайт сообщает, что такой страницы нет (HTTP 404). Проверьте ссылку.",
  "err.YTDLP_FORBIDDEN": "Сайт отказал в доступе к этому видео (HTTP 403).",
  "err.YTDLP_LIVE_NOT_SUPPORTED":
    "Прямые трансляции не скачиваются. Пришлите ссылку снова, когда трансляция закончится и запись будет опубликована.",
  "err.YTDLP_PLAYLIST_NOT_SUPPORTED": "Эта ссылка — плейлист. Пришлите ссылку на одно видео.",
  "err.YTDLP_TOO_LARGE": "Это видео больше допустимого размера. Попробуйте качество пониже.",
  "err.YTDLP_UNREACHABLE": "Сайт недоступен. Проверьте ссылку или попробуйте позже.",
  "err.YTDLP_TIMEOUT": "Сайт слишком долго не отвечал. Попробуйте позже.",
  "err.PREMIUM_SESSION_UNAVAILABLE":
    "Этому файлу нужна пользовательская сессия Premium, а она сейчас недоступна. Оператор знает, как это исправить.",
  "err.CAPTION_TEMPLATE_INVALID":
    "Этот шаблон подписи нельзя использовать:\n{problems}\nПодстановки: {placeholders}. Теги: {tags}.",
  "err.STEP_TIMEOUT": "Один из шагов задачи шёл слишком долго и был остановлен. Попробуйте позже.",
  "err.ABANDONED": "Задача прерывалась слишком много раз, и от неё отказались. Пришлите ссылку снова.",
  "err.CANCELLED": "Отменено.",
  "err.NO_AUDIO": "В этом файле нет звуковой дорожки.",
  "err.FFPROBE_BAD_JSON": "Файл не удалось прочитать как медиа. Подробности есть у оператора.",
  "err.THUMBNAIL_INVALID": "Не удалось сделать превью. Подробности есть у оператора.",
  "err.THUMBNAIL_FAILED": "Не удалось сделать превью. Подробности есть у оператора.",
  "err.SPLIT_NO_KEYFRAMES": "Видео не удалось разрезать на части: в нём нет ключевых кадров.",
  "err.SPLIT_TOO_MANY_PARTS": "Для отправки файл пришлось бы разрезать на слишком много частей.",
  "err.SPLIT_PART_TOO_BIG": "Видео не удалось разрезать на достаточно маленькие для Telegram части.",
  "err.TOOL_TIMEOUT": "Обработка шла слишком долго и была остановлена.",
  "err.TOOL_NOT_FOUND": "На сервере нет нужной Medusa программы. Подробности есть у оператора.",
  "err.TOOL_FAILED": "Обработка не удалась. Подробности есть у оператора.",
  "err.UPLOAD_FAILED": "Загрузка в Telegram не удалась. Попробуйте позже.",
  "err.UPLOAD_PART_REFUSED": "Telegram не принял часть файла. Попробуйте позже.",
  "err.UPLOAD_FLOOD_WAIT": "Telegram попросил подождать. Попробуйте позже.",
  "err.UPLOAD_CONNECTION_LOST": "Соединение с Telegram прервалось во время загрузки. Попробуйте ещё раз.",
  "err.UPLOAD_RPC_ERROR": "Telegram отклонил загрузку. Попробуйте позже.",
  "err.UPLOAD_EMPTY_FILE": "Файл пустой (0 байт), а Telegram не принимает пустые файлы.",
  "err.UPLOAD_TOO_MANY_PARTS":
    "Файл слишком большой для Telegram: не больше {limit} в одном файле. Задайте размер частей в /settings.",
  "err.UPLOAD_SOURCE_CHANGED": "Файл изменился на сервере во время загрузки. Попробуйте ещё раз.",
  "err.UPLOAD_SOURCE_STALLED": "Чтение файла остановилось во время загрузки. Попробуйте ещё раз.",
  "err.UPLOAD_NO_DOCUMENT": "Telegram не принял файл. Попробуйте позже.",
  "err.SEND_NOT_CONNECTED": "Бот сейчас не подключён к Telegram. Попробуйте через минуту.",
  "err.SEND_NO_MESSAGE": "Telegram не подтвердил сообщение. Попробуйте позже.",
  "err.SEND_TIMEOUT": "Telegram не ответил вовремя. Попробуйте позже.",

  // --- notices to the owner, each sent once ---
  "notice.logRefused":
    "⚠️ Лог-канал <code>{chat}</code> не принял копию ({code}). Я пропускаю его, остальное доставляется как обычно. Дайте мне право публиковать там или уберите его: <code>/removelog {chat}</code>.",
  "notice.failures":
    "⚠️ За последние {minutes} мин. не удалось выполнить задач: {count}. Чаще всего: {codes}. Последние ошибки — в /health, подробности — в логе; снова напишу, только когда всё наладится.",
  "notice.failuresRecovered": "✅ Задачи снова выполняются: последние {streak} завершились успешно.",
  "notice.diskLow":
    "⚠️ В папке данных (<code>{dir}</code>) свободно только {free}. Когда останется меньше {min}, загрузки будут отклоняться. Освободите место: старые копии в data/backups или меньший HISTORY_DAYS.",
  "notice.diskRecovered": "✅ Место на диске освободилось: в папке данных свободно {free}.",
  "notice.sessionStopped":
    "⚠️ Пользовательская сессия Premium перестала работать ({code}): из неё вышли или аккаунт удалён. Файлы больше 2000 MiB будут делиться на части, пока вы не войдёте снова: выполните <code>medusa login</code> на сервере и перезапустите Medusa.",
  "notice.crashStart":
    "⚠️ Medusa запущена снова после остановки без штатного завершения (сбой, kill или отключение питания). Незавершённых задач продолжено: {resumed}, из них прерваны на середине шага: {interrupted}; ничего не потеряно. Если это повторяется, посмотрите лог и память сервера.",
  // --- параметры ссылки, кнопки качества и плейлисты ---
  "options.audio":
    "«{part}»: после audio ничего не пишется (чтобы так назвать файл, напишите «name: {part}»)",
  "options.subs": "«{part}»: субтитры — «subs» (встроить), «subs embed» или «subs file»",
  "options.trim":
    "«{part}»: для trim нужно начало-конец, например «trim 1:00-2:30», «trim 90-» или «trim -0:30»",
  "options.trimOrder": "«{part}»: конец обрезки должен быть позже начала",
  "options.twoNames": "«{part}»: у строки одно новое имя; параметры — audio, subs и trim",
  "options.audioSubs": "у звука нет картинки для субтитров; используйте «subs file» без «audio»",
  "options.emptyName": "«{part}»: новое имя пустое",
  "options.accepted":
    "После ссылки: <code>| audio</code>, <code>| subs</code>, <code>| subs file</code>, <code>| trim 1:00-2:30</code>, <code>| новое имя</code> (или <code>| name: …</code>), несколько через |.",
  "prompt.quality": "<b>{title}</b>\nВыберите качество. Без выбора через {seconds} с начнётся {quality}.",
  "prompt.qualityMany":
    "<b>Качество для видео: {count}</b>\n{list}\nВыберите одно качество для всех. Без выбора через {seconds} с начнётся {quality}.",
  "prompt.qualityItem": "• {link}",
  "prompt.qualityItemNamed": "• {name}: {link}",
  "prompt.q.best": "⭐ Лучшее",
  "prompt.q.audio": "🎵 Только звук",
  "prompt.chosen": "Качество: {quality}",
  "prompt.timedOut": "Выбора не было: начато {quality}.",
  "prompt.nothing": "Ничего не поставлено в очередь.",
  "prompt.alreadyStarted": "Уже начато: выбор сделан (или время на выбор вышло).",
  "prompt.notReady": "Ещё смотрю ссылку; минуту.",
  "prompt.expired": "Этот вопрос устарел; пришлите ссылку ещё раз.",
  "playlist.ask": "<b>{title}</b>\nПлейлист из {count} видео. Поставить все в очередь пакетом?",
  "playlist.askBounded":
    "<b>{title}</b>\nПлейлист из {total} видео; из одного плейлиста берётся не больше {max}, то есть первые {count}. Поставить их в очередь пакетом?",
  "playlist.confirm": "✅ В очередь {count}",
  "playlist.cancel": "✖ Отмена",
  "playlist.cancelled": "Отменено: ничего не поставлено в очередь.",
  "playlist.expired": "Не подтверждено вовремя: ничего не поставлено. Пришлите ссылку ещё раз.",
  "playlist.empty": "В этом плейлисте нет видео, которые я могу взять.",
  "settings.quality.ask": "спрашивать каждый раз",
};
