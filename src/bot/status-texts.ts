/**
 * Every word the live status board shows, in English and Russian. Plain text (the renderer escapes it); values come
 * in already formatted ("1.5 MiB", "0:42"). Kept apart from the bot's catalogs so they can be folded in as one
 * `status` section later.
 */

export interface StatusTexts {
  /** The first line while jobs are active. */
  title(active: number): string;
  /** The first line once everything on the board finished. */
  titleFinished: string;
  downloading: string;
  processing: string;
  uploading: string;
  sending: string;
  /** A waiting job; `position` is its place in the queue (null: about to start or finish). */
  queued(position: number | null): string;
  /** A job waiting for its retry, due in `wait` ("0:42"). */
  retrying(wait: string): string;
  /** A running job whose cancel was asked for. */
  cancelling: string;
  /** A paused job (kept in place, not started until resumed), and a running one stopping for its pause. */
  paused: string;
  pausing: string;
  done: string;
  /** The text of the link to the delivered message. */
  open: string;
  failed: string;
  cancelled: string;
  /** "1.5 MiB/s". */
  speed(perSecond: string): string;
  /** "ETA 1:23". */
  eta(left: string): string;
  /** "Page 2 of 3". */
  page(current: number, total: number): string;
  /** A button that cancels one job, named by its number on the board ("#12"). */
  cancelButton(label: string): string;
  cancelAll: string;
  /** Buttons that pause and resume one job ("#12"). */
  pauseButton(label: string): string;
  resumeButton(label: string): string;
  previous: string;
  next: string;
  /** Answers to a button press (shown by Telegram as a toast). */
  answerCancelled: string;
  answerCancelledAll(count: number): string;
  answerPaused: string;
  answerResumed: string;
  answerNothingToCancel: string;
  answerAlreadyFinished: string;
  answerNotYours: string;
  answerStale: string;
  answerPage(current: number): string;
}

export const STATUS_TEXTS_EN: StatusTexts = {
  title: (active) => `Your jobs: ${active} active`,
  titleFinished: "All jobs finished",
  downloading: "Downloading",
  processing: "Processing",
  uploading: "Uploading",
  sending: "Sending",
  queued: (position) => (position === null ? "Queued" : `Queued, #${position} in line`),
  retrying: (wait) => `Retrying in ${wait}`,
  cancelling: "Cancelling…",
  paused: "⏸ Paused",
  pausing: "Pausing…",
  done: "Done",
  open: "open",
  failed: "Failed",
  cancelled: "Cancelled",
  speed: (perSecond) => `${perSecond}/s`,
  eta: (left) => `ETA ${left}`,
  page: (current, total) => `Page ${current} of ${total}`,
  cancelButton: (label) => `✖ ${label}`,
  cancelAll: "✖ Cancel all",
  pauseButton: (label) => `⏸ ${label}`,
  resumeButton: (label) => `▶ ${label}`,
  previous: "‹ Prev",
  next: "Next ›",
  answerCancelled: "Cancelled.",
  answerCancelledAll: (count) => (count === 1 ? "Cancelled 1 job." : `Cancelled ${count} jobs.`),
  answerPaused: "Paused. It keeps its place; press ▶ to go on.",
  answerResumed: "Resumed.",
  answerNothingToCancel: "Nothing to cancel.",
  answerAlreadyFinished: "That job has already finished.",
  answerNotYours: "That is not your job.",
  answerStale: "This button is out of date.",
  answerPage: (current) => `Page ${current}`,
};

/** Russian plural forms: 1 задача, 2 задачи, 5 задач. */
function ruPlural(n: number, one: string, few: string, many: string): string {
  const mod10 = n % 10;
  const mod100 = n % 100;
  if (mod10 === 1 && mod100 !== 11) return one;
  if (mod10 >= 2 && mod10 <= 4 && (mod100 < 12 || mod100 > 14)) return few;
  return many;
}

export const STATUS_TEXTS_RU: StatusTexts = {
  title: (active) => `Ваши задачи: ${active} ${ruPlural(active, "активная", "активные", "активных")}`,
  titleFinished: "Все задачи завершены",
  downloading: "Скачивание",
  processing: "Обработка",
  uploading: "Загрузка",
  sending: "Отправка",
  queued: (position) => (position === null ? "В очереди" : `В очереди, №${position}`),
  retrying: (wait) => `Повтор через ${wait}`,
  cancelling: "Отмена…",
  paused: "⏸ На паузе",
  pausing: "Пауза…",
  done: "Готово",
  open: "открыть",
  failed: "Ошибка",
  cancelled: "Отменено",
  speed: (perSecond) => `${perSecond}/с`,
  eta: (left) => `осталось ${left}`,
  page: (current, total) => `Страница ${current} из ${total}`,
  cancelButton: (label) => `✖ ${label}`,
  cancelAll: "✖ Отменить все",
  pauseButton: (label) => `⏸ ${label}`,
  resumeButton: (label) => `▶ ${label}`,
  previous: "‹ Назад",
  next: "Далее ›",
  answerCancelled: "Отменено.",
  answerCancelledAll: (count) => `Отменено: ${count} ${ruPlural(count, "задача", "задачи", "задач")}.`,
  answerPaused: "На паузе. Место в очереди сохранено; нажмите ▶, чтобы продолжить.",
  answerResumed: "Продолжаем.",
  answerNothingToCancel: "Нечего отменять.",
  answerAlreadyFinished: "Эта задача уже завершена.",
  answerNotYours: "Это не ваша задача.",
  answerStale: "Эта кнопка устарела.",
  answerPage: (current) => `Страница ${current}`,
};

export const STATUS_TEXTS: Readonly<Record<"en" | "ru", StatusTexts>> = {
  en: STATUS_TEXTS_EN,
  ru: STATUS_TEXTS_RU,
};
