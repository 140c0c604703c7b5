/** Every text the bot shows, in Russian: the same keys and {placeholders} as en.ts (a test checks). */
import type { Catalog } from "./en.js";

export const ru: Catalog = {
  "error.user": "⚠️ {message}",
  "error.hint": "{hint}",
  "error.internal": "⚠️ У нас что-то пошло не так. Подробности есть у оператора.",
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
  "batch.empty": "В списке нет ни одной ссылки, которую я могу взять.",
  "batch.needReply":
    "Ответьте <code>/batch</code> на список .txt (например, <code>/batch 3-10 @channel</code>).",
  "batch.tooBig": "Список весит {size}; принимается не больше {max}. Разбейте его на несколько файлов.",
  "batch.noFile": "В сообщении, на которое вы ответили, нет списка .txt.",

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
  "settings.pick.quality": "<b>Качество</b>\nНаибольшее качество видео для скачивания или только звук.",
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
};
