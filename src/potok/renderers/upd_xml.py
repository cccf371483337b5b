"""The УПД as the tax service's XML, format 5.03 (КНД 1115131), the seller's file.

The file follows the schema approved by приказ ФНС России от 19.12.2023 № ЕД-7-26/970@:
root ``Файл`` with ``ВерсФорм="5.03"``, one ``Документ`` whose ``Функция`` is ``СЧФДОП``
(status 1: счёт-фактура and transfer document) or ``ДОП`` (status 2: transfer only),
encoded in windows-1251. Its name (and ``ИдФайл``) is
``ON_NSCHFDOPPR_<recipient's ЭДО id>_<sender's ЭДО id>_<YYYYMMDD>_<GUID>``.

Beyond the XSD, the schema's own rules (its Schematron annotations) are kept too: both
parties, the consignor and the consignee carry an address in status 1, the line and total
amounts with and without tax are given, the transfer has a date, ``НаимДокОпр`` names the
document. Marking codes travel per unit as ``КИЗ``, the identification code without its
crypto tail, as Честный ЗНАК asks.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

from potok import __version__
from potok.domain.documents import (
    Heading,
    Line,
    Party,
    PartyKind,
    PersonName,
    Signatory,
    Subject,
    UpdStatus,
)

PREFIX = "ON_NSCHFDOPPR"
KND = "1115131"
FORMAT_VERSION = "5.03"
DOCUMENT_NAME = (
    "Документ об отгрузке товаров (выполнении работ), передаче имущественных прав "
    "(документ об оказании услуг)"
)
RUSSIA = ("643", "Россия")
ROUBLE = ("643", "Российский рубль")
GS = "\x1d"  # the group separator inside a DataMatrix marking code


def file_id(heading: Heading, subject: Subject) -> str:
    """The exchange file's name without ``.xml``; ``ИдФайл`` repeats it."""
    recipient = subject.buyer.edo_id or ""
    sender = subject.seller.edo_id or ""
    return f"{PREFIX}_{recipient}_{sender}_{heading.local_time:%Y%m%d}_{heading.file_guid}"


def file_name(heading: Heading, subject: Subject) -> str:
    return file_id(heading, subject) + ".xml"


def identification_code(marking_code: str) -> str:
    """A marking code's identification part (01 GTIN 21 serial), without the crypto tail.

    A DataMatrix code reads ``01<GTIN>21<serial><GS>91<key><GS>92<signature>``; the УПД
    carries only what comes before the first group separator. XML cannot hold the
    separator anyway.
    """
    return marking_code.split(GS, 1)[0]


def _money(amount: Decimal) -> str:
    return f"{amount:.2f}"


def _date(heading_date: object) -> str:
    return f"{heading_date:%d.%m.%Y}"


def _name(parent: ET.Element, tag: str, name: PersonName) -> ET.Element:
    attrs = {"Фамилия": name.last[:60], "Имя": name.first[:60]}
    if name.middle:
        attrs["Отчество"] = name.middle[:60]
    return ET.SubElement(parent, tag, attrs)


def _split_name(full: str) -> PersonName:
    parts = full.split()
    if len(parts) >= 3:
        return PersonName(parts[0], parts[1], " ".join(parts[2:]))
    if len(parts) == 2:
        return PersonName(parts[0], parts[1])
    return PersonName(full or "-", "-")


def _participant(parent: ET.Element, tag: str, party: Party, *, with_bank: bool) -> None:
    """A ``УчастникТип``: who (an organisation, an entrepreneur or a person) and where."""
    element = ET.SubElement(parent, tag)
    if party.okpo:
        element.set("ОКПО", party.okpo)
    if party.short_name:
        element.set("СокрНаим", party.short_name[:510])
    ids = ET.SubElement(element, "ИдСв")
    if party.kind is PartyKind.ORGANISATION:
        attrs = {"НаимОрг": party.name[:1000], "ИННЮЛ": party.inn or ""}
        if party.kpp:
            attrs["КПП"] = party.kpp
        ET.SubElement(ids, "СвЮЛУч", attrs)
    elif party.kind is PartyKind.ENTREPRENEUR:
        attrs = {"ИННФЛ": party.inn or ""}
        if party.ogrn:
            attrs["ОГРНИП"] = party.ogrn
        entrepreneur = ET.SubElement(ids, "СвИП", attrs)
        _name(entrepreneur, "ФИО", party.person_name or _split_name(party.name))
    else:
        person = ET.SubElement(ids, "СвФЛУч")
        _name(person, "ФИО", _split_name(party.name))
    if party.address:
        address = ET.SubElement(element, "Адрес")
        ET.SubElement(
            address,
            "АдрИнф",
            {"КодСтр": RUSSIA[0], "НаимСтран": RUSSIA[1], "АдрТекст": party.address[:1000]},
        )
    if with_bank and party.bank is not None:
        bank = ET.SubElement(element, "БанкРекв", {"НомерСчета": party.bank.account})
        ET.SubElement(
            bank,
            "СвБанк",
            {
                "НаимБанк": party.bank.bank_name[:1000],
                "БИК": party.bank.bik,
                "КорСчет": party.bank.correspondent_account,
            },
        )
    if party.phone:
        contact = ET.SubElement(element, "Контакт")
        ET.SubElement(contact, "Тлф").text = party.phone[:255]


def _tax_rate(line: Line) -> str:
    if line.vat_rate is None:
        return "без НДС"
    return f"{line.vat_rate.normalize():f}%".replace(".", ",")


def _tax(parent: ET.Element, tag: str, amount: Decimal, *, charged: bool) -> None:
    element = ET.SubElement(parent, tag)
    if charged:
        ET.SubElement(element, "СумНал").text = _money(amount)
    else:
        ET.SubElement(element, "БезНДС").text = "без НДС"


def _line(table: ET.Element, line: Line) -> None:
    item = ET.SubElement(
        table,
        "СведТов",
        {
            "НомСтр": str(line.no),
            "НаимТов": line.name[:2000],
            "ОКЕИ_Тов": line.unit.code,
            "НаимЕдИзм": line.unit.name,
            "КолТов": str(line.quantity),
            "ЦенаТов": _money(line.net_price),
            "СтТовБезНДС": _money(line.net),
            "НалСт": _tax_rate(line),
            "СтТовУчНал": _money(line.total),
        },
    )
    extra = ET.SubElement(
        item, "ДопСведТов", {"ПрТовРаб": "3" if line.service else "1", "КодТов": line.sku[:100]}
    )
    if line.gtin and len(line.gtin) == 14:
        extra.set("ГТИН", line.gtin)
    elif line.gtin and line.gtin.isdigit() and len(line.gtin) in (8, 12, 13):
        extra.set("ГТИН", line.gtin.zfill(14))
    if line.marking_codes:
        codes = ET.SubElement(extra, "НомСредИдентТов")
        for code in line.marking_codes:
            ET.SubElement(codes, "КИЗ").text = identification_code(code)[:255]
    excise = ET.SubElement(item, "Акциз")
    ET.SubElement(excise, "БезАкциз").text = "без акциза"
    _tax(item, "СумНал", line.vat, charged=line.vat_rate is not None)


def _signer(document: ET.Element, signatory: Signatory | None, heading: Heading) -> None:
    attrs = {"СпосПодтПолном": "1"}
    if signatory is not None:
        attrs = {"Должн": signatory.position[:255], "ТипПодпис": "1", **attrs}
    attrs["ДатаПодДок"] = _date(heading.local_time.date())
    signer = ET.SubElement(document, "Подписант", attrs)
    _name(signer, "ФИО", signatory.name if signatory else PersonName("-", "-"))


def render_upd_xml(heading: Heading, subject: Subject) -> bytes:
    """The seller's exchange file of the УПД, as windows-1251 bytes."""
    status = heading.upd_status or UpdStatus.INVOICE_AND_TRANSFER
    local = heading.local_time
    root = ET.Element(
        "Файл",
        {
            "ИдФайл": file_id(heading, subject),
            "ВерсФорм": FORMAT_VERSION,
            "ВерсПрог": f"Potok {__version__}"[:40],
        },
    )
    document = ET.SubElement(
        root,
        "Документ",
        {
            "КНД": KND,
            "Функция": "СЧФДОП" if status is UpdStatus.INVOICE_AND_TRANSFER else "ДОП",
            "ПоФактХЖ": DOCUMENT_NAME,
            "НаимДокОпр": DOCUMENT_NAME,
            "ДатаИнфПр": _date(local.date()),
            "ВремИнфПр": f"{local:%H.%M.%S}",
            "НаимЭконСубСост": subject.seller.name[:1000],
        },
    )
    facts = ET.SubElement(
        document,
        "СвСчФакт",
        {"НомерДок": heading.number, "ДатаДок": _date(heading.issued_on)},
    )
    if heading.correction_no:
        ET.SubElement(
            facts,
            "ИспрДок",
            {
                "НомИспр": str(heading.correction_no),
                "ДатаИспр": _date(heading.correction_on or heading.issued_on),
            },
        )
    _participant(facts, "СвПрод", subject.seller, with_bank=True)
    shipper = ET.SubElement(facts, "ГрузОт")
    if subject.consignor is None:
        ET.SubElement(shipper, "ОнЖе").text = "он же"
    else:
        _participant(shipper, "ГрузОтпр", subject.consignor, with_bank=False)
    _participant(facts, "ГрузПолуч", subject.consignee or subject.buyer, with_bank=False)
    ET.SubElement(
        facts,
        "ДокПодтвОтгрНом",
        {
            "РеквНаимДок": DOCUMENT_NAME,
            "РеквНомерДок": f"№ п/п 1-{len(subject.lines)} № {heading.number}"[:255],
            "РеквДатаДок": _date(heading.issued_on),
        },
    )
    _participant(facts, "СвПокуп", subject.buyer, with_bank=True)
    ET.SubElement(facts, "ДенИзм", {"КодОКВ": ROUBLE[0], "НаимОКВ": ROUBLE[1]})

    table = ET.SubElement(document, "ТаблСчФакт")
    for line in subject.lines:
        _line(table, line)
    totals = subject.totals
    total = ET.SubElement(
        table,
        "ВсегоОпл",
        {"СтТовБезНДСВсего": _money(totals.net), "СтТовУчНалВсего": _money(totals.total)},
    )
    charged = any(line.vat_rate is not None for line in subject.lines)
    _tax(total, "СумНалВсего", totals.vat, charged=charged)

    transfer = ET.SubElement(document, "СвПродПер")
    shipped_on = subject.shipping.shipped_on or heading.issued_on
    handover = ET.SubElement(
        transfer,
        "СвПер",
        {"СодОпер": "Товары переданы", "ДатаПер": _date(shipped_on)},
    )
    ET.SubElement(
        handover,
        "ОснПер",
        {
            "РеквНаимДок": subject.basis.title[:255],
            "РеквНомерДок": subject.basis.number[:255],
            "РеквДатаДок": _date(subject.basis.on),
        },
    )
    dispatcher = subject.seller.dispatcher
    if dispatcher is not None:
        person = ET.SubElement(handover, "СвЛицПер")
        worker = ET.SubElement(person, "РабОргПрод", {"Должность": dispatcher.position[:255]})
        _name(worker, "ФИО", dispatcher.name)
    if subject.shipping.carrier or subject.shipping.tracking_number:
        about = " ".join(
            part for part in (subject.shipping.carrier, subject.shipping.tracking_number) if part
        )
        ET.SubElement(handover, "Тран", {"СвТран": about[:1000]})
    _signer(document, subject.seller.head, heading)

    ET.indent(root, space=" ")
    body: bytes = ET.tostring(root, encoding="windows-1251", xml_declaration=False)
    return b'<?xml version="1.0" encoding="windows-1251"?>\n' + body + b"\n"
