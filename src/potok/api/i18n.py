"""The words people read in problem documents, in English and Russian.

``type`` and ``code`` never change with the language; ``title`` and ``detail`` follow
the request's Accept-Language. Russian texts are kept here by error code, with the
same placeholders as the English templates in the domain.
"""

from __future__ import annotations

from fastapi import Request

from potok.domain.errors import PotokError

RU_PROBLEMS: dict[str, tuple[str, str | None]] = {
    "not-found": ("Не найдено", None),
    "conflict": ("Конфликт с текущим состоянием", None),
    "rejected": ("Отклонено бизнес-правилом", None),
    "unavailable": ("Временно недоступно", None),
    "schema-not-ready": (
        "Схема базы данных не обновлена",
        "В базе нет таблиц Potok или схема устарела; выполните 'potok db upgrade'.",
    ),
    "transient-conflict": ("Помешали одновременные изменения; повторите запрос", None),
    "invalid-input": ("Данные не прошли проверку", None),
    "stale-version": (
        "Ресурс изменился с момента чтения",
        "Вы прислали версию {expected}, текущая версия {actual}; перечитайте и повторите.",
    ),
    "illegal-transition": (
        "Это изменение недопустимо в текущем состоянии",
        "{machine}: переход из '{current}' в '{target}' запрещён.",
    ),
    "nothing-to-replay": (
        "Повторять нечего",
        "В этом диапазоне нет событий, которые можно отправить снова: их ещё не доставляли "
        "этому получателю, они больше не хранятся или такого события нет.",
    ),
    "exchange-not-possible": (
        "Этот возврат сейчас нельзя обменять",
        "Для возврата {number} (состояние: {status}) нельзя создать заказ на замену: возврат "
        "должен быть одобрен, получен или проверен, деньги за него ещё не выплачены, и замены "
        "у него ещё нет.",
    ),
    "report-period-too-long": (
        "Слишком длинный период отчёта",
        "С {since} по {until} — {days} дн. в {buckets} интервалах ({grain}); отчёт охватывает "
        "не более {max_days} дней и {max_buckets} интервалов: сократите период или выберите "
        "более крупный шаг (week, month).",
    ),
    "report-period-reversed": (
        "Период отчёта заканчивается раньше, чем начинается",
        "Период начинается {since} и заканчивается {until}: 'until' не может быть раньше.",
    ),
    "no-forecast-run": (
        "Прогноз спроса ещё не сохранён",
        "Сохранённого прогноза нет: выполните 'potok forecast run' или дождитесь, когда его "
        "запустит обработчик по расписанию (POTOK_WORKER__FORECAST_EVERY_HOURS).",
    ),
    "forecast-too-short": (
        "Сохранённый прогноз не заглядывает так далеко",
        "Срок поставки {lead_days} дн. и период пересмотра {review_days} дн. требуют прогноза "
        "на {needed} дн.; прогноз {run} рассчитан на {horizon} дн.: сократите их или сохраните "
        "прогноз командой 'potok forecast run --horizon {needed}'.",
    ),
    "nothing-to-reorder": (
        "Из этого заказывать нечего",
        "По последнему прогнозу на складе {warehouse} сейчас не нужно заказывать ничего из "
        "{skus}: их позиции покрывают точки заказа (возможно, их уже везёт заказ или "
        "перемещение).",
    ),
    "legal-entity-not-found": ("Юрлицо не найдено", "Юрлица '{code}' нет."),
    "legal-entity-exists": ("Юрлицо уже зарегистрировано", None),
    "channel-has-seller": (
        "У канала уже есть продавец",
        "Канал '{channel}' обслуживает продавец '{seller}'; сначала уберите канал у него.",
    ),
    "default-seller-exists": (
        "Продавец по умолчанию уже есть",
        "Продавец по умолчанию - '{seller}'; сначала снимите этот признак с него.",
    ),
    "document-not-found": ("Документ не найден", "Документа {document_id} нет."),
    "seller-missing": (
        "У заказа нет продавца для документов",
        "У заказа {order_id} канала '{channel}' нет продавца: зарегистрируйте юрлицо с ролью "
        "'seller' и укажите '{channel}' в его каналах или сделайте его продавцом по умолчанию "
        "(is_default).",
    ),
    "requisites-missing": ("Для документа не хватает реквизитов", None),
    "seller-not-vat-payer": (
        "Продавец не плательщик НДС",
        "Продавец '{seller}' не платит НДС, поэтому его УПД не может быть счётом-фактурой "
        "(статус 1); выпустите статус 2.",
    ),
    "order-cancelled": (
        "Заказ отменён",
        "Заказ {order_id} отменён; документы по нему не выпускаются.",
    ),
    "format-not-available": ("У документа нет такого формата", None),
    "correction-exists": (
        "Документ уже исправлен",
        "Документ {document_id} исправлен документом {correction_id}; исправляйте его.",
    ),
    "out-of-reach": (
        "Не найдено",
        "{who} работает только с частью каналов или складов, а это касается всех: "
        "обратитесь к тому, у кого нет таких ограничений.",
    ),
    "paper-not-ready": (
        "Отправление ещё не готово для этого документа",
        "{paper} отправления {shipment} ({status}) пока не напечатать: {step}.",
    ),
    "no-shipment-yet": (
        "У заказа ещё нет отправления",
        "Заказ {order_id} ещё не передан на склад: печатать нечего.",
    ),
    "nothing-to-print": (
        "Ни у одного из выбранных заказов нет этого документа для печати",
        "Из {orders} выбранных заказов ни у одного нет отправления, для которого сейчас "
        "можно напечатать {kind}; почему — сказано в 'left_out' для каждого.",
    ),
    "parcel-not-found": ("Место не найдено", "В отправлении {shipment} нет места {parcel_no}."),
    "order-not-found": ("Заказ не найден", "Заказа {order_id} нет."),
    "customer-not-found": ("Покупатель не найден", "Покупателя {customer_id} нет."),
    "rule-not-found": ("Правило не найдено", "Правила автоматизации {rule_id} нет."),
    "queue-not-found": ("Очередь не найдена", "Очереди задач '{queue}' нет."),
    "task-not-found": ("Задача не найдена", "Задачи {task_id} нет."),
    "task-taken": (
        "Задача занята или уже выполнена",
        "Задача {task_id} в состоянии {state}{whose}; {user} не может её взять или закрыть.",
    ),
    "no-task-waiting": (
        "В очереди нет задач",
        "В очереди '{queue}' нет открытых задач для {user}.",
    ),
    "order-on-hold": (
        "Заказ на удержании",
        "У заказа {order_id} активное удержание ({holds}); сначала снимите его.",
    ),
    "order-not-reserved": (
        "У заказа нет резервов",
        "Заказ {order_id} в статусе {order_status}; перепланировать можно только "
        "зарезервированный заказ.",
    ),
    "order-closed": (
        "Заказ закрыт",
        "Заказ {order_id} в статусе {order_status}; изменить его нельзя.",
    ),
    "hold-not-found": ("Удержание не найдено", "У заказа {order_id} нет удержания №{hold_no}."),
    "hold-already-active": (
        "У заказа уже есть такое удержание",
        "У заказа {order_id} уже активно удержание типа {hold_type} (№{hold_no}).",
    ),
    "insufficient-stock": (
        "Недостаточно товара для заказа",
        "Сеть складов не может покрыть строк заказа: {short_lines} ({summary}).",
    ),
    "idempotency-key-reused": (
        "Idempotency-Key уже использован для другого запроса",
        "Ключ '{key}' уже использован с другим телом запроса; для нового запроса нужен новый ключ.",
    ),
    "product-not-found": ("Товар не найден", "Товара с артикулом '{sku}' нет."),
    "sku-taken": ("Артикул уже существует", "Товар с артикулом '{sku}' уже есть."),
    "sku-in-use": (
        "Артикул используется",
        "Товар '{sku}' {why}; вместо удаления деактивируйте его.",
    ),
    "barcode-taken": (
        "Штрихкод принадлежит другому товару",
        "Штрихкод '{barcode}' уже у товара '{sku}'.",
    ),
    "channel-not-found": ("Канал не найден", "Канала с кодом '{channel}' нет."),
    "channel-inactive": ("Канал не активен", "Канал '{channel}' отключён и не принимает заказы."),
    "channel-code-taken": ("Код канала занят", "Канал с кодом '{channel}' уже есть."),
    "channel-in-use": (
        "Канал используется",
        "Канал '{channel}' {why}; вместо удаления деактивируйте его.",
    ),
    "warehouse-not-found": (
        "Склад не найден",
        "Склада, магазина или ПВЗ с кодом '{warehouse}' нет.",
    ),
    "warehouse-code-taken": ("Код склада занят", "Склад с кодом '{warehouse}' уже есть."),
    "alert-not-found": ("Оповещение не найдено", "Оповещения {alert_id} нет."),
    "alert-already-acknowledged": (
        "Оповещение уже принято",
        "Оповещение {alert_id} принял {by} в {at}.",
    ),
    "warehouse-in-use": (
        "Склад используется",
        "Склад '{warehouse}' {why}; вместо удаления деактивируйте его.",
    ),
    "stock-not-found": ("Остатков нет", "На складе '{warehouse}' нет учёта товара '{sku}'."),
    "write-off-exceeds-stock": (
        "Нельзя списать больше, чем есть",
        "Списание {quantity} шт. '{sku}' на складе '{warehouse}', а в наличии {on_hand}.",
    ),
    "count-mismatch": (
        "Остаток изменился с момента чтения",
        "Вы ожидали {expected} шт. '{sku}' на складе '{warehouse}', а в учёте {actual}; "
        "перечитайте остаток и пришлите пересчёт снова.",
    ),
    "bulk-rejected": ("В пакете есть ошибочные строки; ничего не изменено", None),
    "set-aside-exceeds-stock": (
        "Нельзя отложить больше, чем есть",
        "Откладывается {quantity} шт. '{sku}' на складе '{warehouse}', а вне недоступного "
        "остатка только {movable}.",
    ),
    "unavailable-exceeded": (
        "В недоступном остатке меньше",
        "Из недоступного остатка '{sku}' на складе '{warehouse}' забирается {quantity} шт., "
        "а в нём {unavailable}.",
    ),
    "location-not-found": (
        "Ячейка не найдена",
        "На складе '{warehouse}' нет ячейки '{location}'.",
    ),
    "location-code-taken": (
        "Ячейка уже есть",
        "На складе '{warehouse}' уже есть ячейка '{location}'.",
    ),
    "location-in-use": (
        "Ячейка используется",
        "Ячейка '{location}' на складе '{warehouse}' {why}; вместо удаления отключите её.",
    ),
    "stock-count-not-found": ("Инвентаризация не найдена", "Инвентаризации '{number}' нет."),
    "stock-count-closed": (
        "Инвентаризация закрыта для ввода",
        "Инвентаризация '{number}' в статусе {status}; вводить количества можно только в открытую.",
    ),
    "stock-count-overlaps": (
        "Позиции уже в другой инвентаризации",
        "Позиции этого листа уже в открытых инвентаризациях {numbers}; сначала завершите их.",
    ),
    "nothing-to-count": ("Пересчитывать нечего", None),
    "stock-rule-not-found": (
        "Для этого товара здесь нет правила мин/макс",
        "У склада '{warehouse}' нет правила мин/макс для '{sku}'.",
    ),
    "currency-mismatch": ("Валюты не совпадают", None),
    "integrity-conflict": (
        "Изменение нарушает правило хранимых данных",
        "Изменение в {table} нарушает правило {constraint}.",
    ),
    "still-referenced": (
        "На запись ещё ссылаются другие",
        "На {entity} ещё ссылаются: {holders}; сначала уберите их или деактивируйте запись.",
    ),
    "missing-reference": (
        "Запись, на которую ссылаются, не существует",
        "{entity} ссылается на {refers_to}, которой нет (уже нет).",
    ),
    "duplicate-row": (
        "Такая запись уже есть",
        "Запись {table} с теми же {columns} уже есть.",
    ),
    "value-out-of-range": (
        "Число слишком велико для хранения",
        "Число в запросе слишком велико для хранения ({where}).",
    ),
    "text-too-long": (
        "Текст слишком длинный для хранения",
        "Текст в запросе длиннее, чем вмещает {where}.",
    ),
}

RU_FIELD_MESSAGES: dict[str, str] = {
    "missing": "обязательное поле",
    "required": "не может быть пустым",
    "int_parsing": "должно быть целым числом",
    "int_type": "должно быть целым числом",
    "int_from_float": "должно быть целым числом",
    "decimal_parsing": "должно быть числом",
    "decimal_type": "должно быть числом",
    "string_type": "должно быть строкой",
    "bool_parsing": "должно быть true или false",
    "datetime_parsing": "должно быть датой и временем ISO 8601",
    "datetime_from_date_parsing": "должно быть датой и временем ISO 8601",
    "timezone_aware": "укажите часовой пояс, например 2026-11-30T18:00:00+03:00",
    "enum": "недопустимое значение",
    "literal_error": "недопустимое значение",
    "extra_forbidden": "неизвестное поле",
    "json_invalid": "некорректный JSON",
    "too_long": "слишком длинное",
    "too_short": "слишком короткое",
    "string_too_long": "слишком длинная строка",
    "string_too_short": "слишком короткая строка",
    "greater_than": "должно быть больше",
    "greater_than_equal": "слишком маленькое значение",
    "less_than_equal": "слишком большое значение",
    "not-positive": "должно быть положительным целым числом",
    "negative": "не может быть отрицательным",
    "unknown-sku": "такого артикула нет",
    "goes-with-from-sequence": "указывается вместе с начальным номером события",
    "goes-with-since": "указывается вместе с началом периода",
    "inactive-sku": "товар не продаётся (деактивирован)",
    "unknown-channel": "такого канала нет",
    "unknown-warehouse": "такого склада нет",
    "unknown-pickup-point": "такого пункта выдачи нет",
    "currency-mismatch": "валюта не совпадает с валютой канала",
    "bad-phone": "это не номер телефона",
    "bad-email": "это не адрес электронной почты",
    "duplicate": "повторяет другую строку",
    "count-mismatch": "остаток в учёте другой; перечитайте и повторите",
    "not-on-sheet": "этой позиции нет в листе инвентаризации",
    "serialised": "товар учитывается по серийным номерам",
    "inactive": "ячейка отключена",
    "decimal_string": 'передайте сумму строкой, например "1990.00"',
    "decimal_format": 'запишите число цифрами с точкой, например "1990.00"',
    "currency": "нужен код валюты ISO 4217, например RUB",
    "country": "нужен код страны ISO 3166, например RU",
    "null_not_allowed": "не может быть null; чтобы оставить значение, не передавайте поле",
    "iso_8601": "нужна дата или момент в ISO 8601, например 2026-11-30T18:00:00+03:00",
    "less_than": "слишком большое значение",
}


def language_of(request: Request) -> str:
    """'ru' when the client prefers Russian, else 'en'."""
    header = request.headers.get("accept-language", "")
    best, best_q = "en", -1.0
    for part in header.split(","):
        piece = part.strip()
        if not piece:
            continue
        tag, _, params = piece.partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        lang = tag.strip().lower().split("-")[0]
        if lang in ("ru", "en") and q > max(best_q, 0.0):  # q=0 means "not this one"
            best, best_q = lang, q
    return best


def translate_problem(error: PotokError, language: str) -> tuple[str, str]:
    if language != "ru" or error.code not in RU_PROBLEMS:
        return error.title, error.detail
    title, template = RU_PROBLEMS[error.code]
    detail = error.detail
    if template is not None and not error.explicit_detail:
        try:
            detail = template.format(**error.context)
        except (KeyError, IndexError):
            detail = title
    elif error.code == "invalid-input" or error.code == "bulk-rejected":
        detail = title
    return title, detail


def translate_field_message(code: str, message: str, language: str) -> str:
    if language == "ru" and code in RU_FIELD_MESSAGES:
        return RU_FIELD_MESSAGES[code]
    return message
