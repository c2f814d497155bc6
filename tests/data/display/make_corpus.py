"""Writes the display corpus: the .eml files of this folder and labels.toml.

    .venv/bin/python tests/data/display/make_corpus.py

Every mail's text is written here by hand; mime.py only encodes it. The label
of each mail (category, expected rule ids, why) is decided from LAW.md and the
ministry's slides, never by running the display policy. Edit a mail or a label
here and run the script again; it rewrites every file deterministically.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mime import Part, binary, encoded_word, mailbox, message, multipart, text

HERE = Path(__file__).resolve().parent
JST = timezone(timedelta(hours=9))

SENDERS = """\
# The sender world: ogiya, hikari and minato as in shared/examples/cases.toml,
# plus two profiles of this corpus: komorebi takes opt-out by mail to its own
# address, yamabiko by a reply to the address it sends from.

[senders.ogiya]
names = ["扇屋商店"]
postal_addresses = ["〒100-0013 東京都千代田区霞が関9-1-1"]
optout_url = "https://www.ogiya.example/mail/stop"
contact = ["03-1234-5678"]
from_domains = ["ogiya.example"]
info_url = "https://www.ogiya.example/company/"

[senders.hikari]
names = ["ひかり通信株式会社", "ひかり通信"]
postal_addresses = ["〒150-0002 東京都渋谷区渋谷2-3-4"]
optout_url = "https://www.hikari-net.example/mail/settings"
contact = ["0120-000-111"]
from_domains = ["hikari-net.example"]

[senders.minato]
names = ["株式会社みなと電子", "Minato Denshi Co., Ltd."]
postal_addresses = [
    "〒530-0001 大阪府大阪市北区梅田1-2-3",
    "1-2-3 Umeda, Kita-ku, Osaka 530-0001, Japan",
]
optout_url = "https://shop.minato.example/unsubscribe"
contact = ["06-6123-4567", "support@minato.example"]
from_domains = ["minato.example"]

[senders.komorebi]
names = ["株式会社こもれび工房"]
postal_addresses = ["〒460-0008 愛知県名古屋市中区栄3-15-8"]
optout_address = "teishi@komorebi.example"
contact = ["052-000-1234"]
from_domains = ["komorebi.example"]

[senders.yamabiko]
names = ["合同会社やまびこ酒造"]
postal_addresses = ["〒390-0811 長野県松本市中央4-5-6"]
optout_address = "info@yamabiko.example"
contact = ["0263-00-1234", "info@yamabiko.example"]
from_domains = ["yamabiko.example"]
"""

DOMAINS = {
    "ogiya": "ogiya.example",
    "hikari": "hikari-net.example",
    "minato": "minato.example",
    "komorebi": "komorebi.example",
    "yamabiko": "yamabiko.example",
}


@dataclass(frozen=True)
class Mail:
    file: str
    sender: str
    category: str
    expected: tuple[str, ...]
    why: str
    raw: bytes


MAILS: list[Mail] = []


def add(
    file: str,
    sender: str,
    category: str,
    expected: tuple[str, ...],
    why: str,
    *,
    sender_name: str,
    sender_address: str,
    to: str,
    subject: str,
    day: int,
    content: Part,
    header_charset: str = "utf-8",
    extra: tuple[str, ...] = (),
) -> None:
    """Register one mail; the headers are those an ESP writes."""
    number = len(MAILS) + 1
    top = [
        f"From: {mailbox(sender_name, sender_address, header_charset)}",
        f"To: {to}",
        f"Subject: {encoded_word(subject, header_charset)}",
        "Date: "
        + format_datetime(datetime(2026, 12, day, 8 + number % 10, number * 7 % 60, tzinfo=JST)),
        f"Message-ID: <d{number:03d}.{file.removesuffix('.eml')}@{DOMAINS[sender]}>",
        *extra,
    ]
    MAILS.append(Mail(file, sender, category, expected, why, message(top, content)))


def html_page(title: str, body: str, style: str = "") -> str:
    """The skeleton a mail builder wraps around its tables."""
    head = f'<style type="text/css">\n{style}\n</style>\n' if style else ""
    return (
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"'
        ' "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n'
        '<html xmlns="http://www.w3.org/1999/xhtml">\n<head>\n'
        '<meta http-equiv="Content-Type" content="text/html" />\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1.0" />\n'
        f"<title>{title}</title>\n{head}</head>\n{body}\n</html>\n"
    )


LIST_UNSUB_OGIYA = (
    "List-Unsubscribe: <https://www.ogiya.example/mail/stop?u=yoshida>",
    "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
)
LIST_UNSUB_MINATO = (
    "List-Unsubscribe: <https://shop.minato.example/unsubscribe?t=8f2c01>,"
    " <mailto:unsub@minato.example>",
    "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
)
FAKE_PDF = (
    b"%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n"
    b"2 0 obj <</Type /Pages /Kids [] /Count 0>> endobj\n"
    b"trailer <</Root 1 0 R>>\n%%EOF\n"
)

# ---------------------------------------------------------------------------
# Compliant advertising, incidental and non-advertising mails (expected = []).
# ---------------------------------------------------------------------------

add(
    "01_ogiya_kanzake_newsletter_iso2022jp.eml",
    "ogiya",
    "advertising",
    (),
    "D1-D5 all in one footer; the opt-out statement is the line right above the URL (D3).",
    sender_name="扇屋商店",
    sender_address="news@ogiya.example",
    to="yoshida@example.jp",
    subject="【扇屋商店】冬の燗酒フェアのお知らせ",
    header_charset="iso-2022-jp",
    day=1,
    extra=LIST_UNSUB_OGIYA,
    content=text(
        """\
吉田 様

寒さが深まってまいりました。扇屋商店の店主、扇谷です。
今年も「冬の燗酒フェア」を十二月二十日まで開催いたします。

◆ぬる燗でおいしい純米酒 3本セット　4,500円（税込）
◆熱燗向けの本醸造 一升瓶　　　　　 2,200円（税込）

店頭では、お燗のつけ方を実演しながら試飲もご用意しています。
通信販売のご注文は https://www.ogiya.example/kanzake/ から。

------------------------------------------------------------
このメールマガジンの配信停止は、以下のページから手続きできます。
https://www.ogiya.example/mail/stop
扇屋商店　〒100-0013 東京都千代田区霞が関9-1-1
電話 03-1234-5678（受付 10時〜18時、日曜定休）
------------------------------------------------------------
""",
        "iso-2022-jp",
        "7bit",
    ),
)

add(
    "02_ogiya_kuramoto_ministry_layout_sjis.eml",
    "ogiya",
    "advertising",
    (),
    "The ministry's example display (slides, 表示の具体例): 【配信停止手続】 heading right above"
    " the URL and address (D2, D3), 【各種問合せ先】 URL を参照 (D5 by link), name, 所在地 (D4).",
    sender_name="扇屋商店",
    sender_address="news@ogiya.example",
    to="yoshida@example.jp",
    subject="新春 蔵元見学会 会員先行のご案内",
    header_charset="iso-2022-jp",
    day=2,
    content=text(
        """\
吉田 様

扇屋商店より、会員のみなさまへ先行のご案内です。
一月の週末に、取引先の蔵元をお訪ねする見学会を企画しました。
仕込みの最盛期の蔵を、杜氏さんの案内で見せていただけます。

　日程：2027年1月16日（土）・23日（土）
　集合：東京駅八重洲口 8:00（貸切バスで移動します）
　会費：12,800円（昼食・試飲代込み）

定員は各回二十名です。お申し込みは店頭でも承ります。

【配信停止手続】
https://www.ogiya.example/mail/stop
teishi@ogiya.example

【各種問合せ先】
https://www.ogiya.example/company/ を参照

扇屋商店
所在地：〒100-0013 東京都千代田区霞が関9-1-1
""",
        "shift_jis",
        "8bit",
    ),
)

add(
    "03_ogiya_nouveau_linked_company_page_eucjp.eml",
    "ogiya",
    "advertising",
    (),
    "D4 and D5 on a linked page, and the mail says the address and the enquiry phone"
    " number are on that page (LAW.md D4/D5: 'then the mail says where').",
    sender_name="扇屋商店",
    sender_address="news@ogiya.example",
    to="yoshida@example.jp",
    subject="【扇屋商店】ボジョレー・ヌーヴォー入荷しました",
    header_charset="iso-2022-jp",
    day=3,
    content=text(
        """\
吉田 様

お待たせいたしました。今年のボジョレー・ヌーヴォーが本日入荷しました。
果実味がはっきりした、軽やかな仕上がりです。数量限定のため、お早めにどうぞ。

　・ボジョレー・ヌーヴォー 2026　3,300円（税込）
　・ボジョレー・ヴィラージュ・ヌーヴォー 2026　4,180円（税込）

ご予約・ご購入：https://www.ogiya.example/nouveau/

＊＊＊＊＊＊＊＊＊＊＊＊＊＊＊＊＊＊＊＊＊＊＊＊
◇メールの受信を停止したい方は、こちらから手続きできます
　https://www.ogiya.example/mail/stop
◇当店の住所と、お問い合わせ窓口の電話番号は次のページに掲載しております
　https://www.ogiya.example/company/
扇屋商店
＊＊＊＊＊＊＊＊＊＊＊＊＊＊＊＊＊＊＊＊＊＊＊＊
""",
        "euc-jp",
        "8bit",
    ),
)

add(
    "04_ogiya_fukubukuro_kanji_address_utf8_b64.eml",
    "ogiya",
    "advertising",
    (),
    "The postal address written with kanji numerals and 丁目・番・号, no postcode, is still"
    " the sender's address (D4); statement right above the URL (D3).",
    sender_name="扇屋商店",
    sender_address="news@ogiya.example",
    to="yoshida@example.jp",
    subject="年末年始の営業日と、お酒の福袋のご予約について",
    day=4,
    content=text(
        """\
吉田 様

いつもご愛顧いただきありがとうございます。扇屋商店です。
年末年始は十二月三十一日から一月三日までお休みをいただきます。

毎年ご好評の「お酒の福袋」は、今年から予約制になりました。
　松　10,000円（一升瓶2本とおつまみ）
　竹　 5,000円（四合瓶2本）
ご予約は十二月二十五日まで、店頭またはウェブで承ります。
https://www.ogiya.example/fukubukuro/

■ご案内メールがご不要でしたら、下記より配信を停止いただけます。
https://www.ogiya.example/mail/stop

扇屋商店
東京都千代田区霞が関九丁目一番一号
お電話でのお問い合わせ　03-1234-5678
""",
        "utf-8",
        "base64",
    ),
)

_OGIYA_EVENT_HTML = html_page(
    "テイスティング会のご招待",
    """\
<body style="margin:0;padding:0;background-color:#f4efe6;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0"
 style="background-color:#f4efe6;">
<tr><td align="center" style="padding:24px 8px;">
<table role="presentation" width="600" cellpadding="0" cellspacing="0" border="0"
 style="background-color:#ffffff;font-family:'Hiragino Mincho ProN',serif;color:#333333;">
<tr><td style="padding:28px 32px 8px 32px;font-size:22px;color:#6b2d2d;">
会員さま限定 テイスティング会
</td></tr>
<tr><td style="padding:8px 32px;font-size:15px;line-height:1.8;">
日頃のご愛顧に感謝をこめて、会員さま限定のテイスティング会を開きます。<br />
シャンパーニュ5種と、国産スパークリング3種を飲み比べていただけます。
</td></tr>
<tr><td style="padding:8px 32px;font-size:15px;line-height:1.8;">
<b>日時</b>　12月12日（土）14:00〜17:00<br />
<b>会場</b>　扇屋商店 2階 試飲スペース<br />
<b>参加費</b>　1,000円（当日お買い上げの方は無料）
</td></tr>
<tr><td align="center" style="padding:20px 32px;">
<a href="https://www.ogiya.example/event/1212"
 style="display:inline-block;background-color:#6b2d2d;color:#ffffff;padding:12px 36px;
 text-decoration:none;border-radius:4px;">予約する</a>
</td></tr>
<tr><td style="padding:16px 32px 28px 32px;font-size:12px;color:#666666;
 border-top:1px solid #dddddd;line-height:1.7;">
配信停止をご希望の方は<a href="https://www.ogiya.example/mail/stop"
 style="color:#6b2d2d;">こちら</a>からお手続きください。<br />
扇屋商店<br />
〒100-0013 東京都千代田区霞が関9-1-1<br />
TEL <a href="tel:03-1234-5678" style="color:#666666;">03-1234-5678</a>
</td></tr>
</table>
</td></tr>
</table>
</body>""",
)

add(
    "05_ogiya_tasting_alternative_iso2022jp_and_utf8.eml",
    "ogiya",
    "advertising",
    (),
    "Each alternative carries every item in its own charset; an alternative is its own"
    " message text, so the two charsets are no D6 mismatch.",
    sender_name="扇屋商店",
    sender_address="news@ogiya.example",
    to="yoshida@example.jp",
    subject="「テイスティング会」ご招待（12月12日・土）",
    header_charset="iso-2022-jp",
    day=5,
    content=multipart(
        "alternative",
        "----=_alt_ogiya_1212",
        text(
            """\
吉田 様

日頃のご愛顧に感謝をこめて、会員さま限定のテイスティング会を開きます。

日時：12月12日（土）14:00〜17:00
会場：扇屋商店 2階 試飲スペース
内容：シャンパーニュ5種と、国産スパークリング3種の飲み比べ
参加費：1,000円（当日お買い上げの方は無料）

ご予約：https://www.ogiya.example/event/1212

―――――――――――――――
配信停止のお手続き
https://www.ogiya.example/mail/stop
扇屋商店
〒100-0013 東京都千代田区霞が関9-1-1
TEL 03-1234-5678
―――――――――――――――
""",
            "iso-2022-jp",
            "7bit",
        ),
        text(_OGIYA_EVENT_HTML, "utf-8", "quoted-printable", "html"),
    ),
)

add(
    "06_ogiya_mobile_timesale_sjis_b64.eml",
    "ogiya",
    "advertising",
    (),
    "A carrier-style short mail: 配信停止→URL states the opt-out on the URL's own line (D3);"
    " name, address and phone follow.",
    sender_name="扇屋商店",
    sender_address="m@ogiya.example",
    to="yoshida@docomo.example.ne.jp",
    subject="扇屋☆週末タイムセール",
    header_charset="shift_jis",
    day=5,
    content=text(
        """\
扇屋商店です♪
今週末だけ、日本酒全品10%OFF！
店頭・通販どちらもOK
http://m.ogiya.example/s/
――
配信停止→https://www.ogiya.example/mail/stop
扇屋商店
東京都千代田区霞が関9-1-1
TEL03-1234-5678
""",
        "shift_jis",
        "base64",
    ),
)

add(
    "07_ogiya_coupon_html_builder_utf8_qp.eml",
    "ogiya",
    "advertising",
    (),
    "HTML-only builder template: a hidden preheader holds no display item; the visible footer"
    " has 配信停止は＋link, name, address and phone (D1-D5).",
    sender_name="扇屋商店",
    sender_address="news@ogiya.example",
    to="yoshida@example.jp",
    subject="🍶 ご来店クーポン 500円OFF（12/31まで）",
    day=6,
    extra=LIST_UNSUB_OGIYA,
    content=text(
        html_page(
            "ご来店クーポン",
            """\
<body style="margin:0;padding:0;background:#eeeeee;">
<span style="display:none;max-height:0;overflow:hidden;mso-hide:all;">年内いつでも使える
クーポンをお届けします。</span>
<center>
<table role="presentation" width="560" cellspacing="0" cellpadding="0" border="0"
 style="background:#ffffff;font-family:Meiryo,sans-serif;">
<tr><td style="padding:20px;text-align:center;">
<img src="https://www.ogiya.example/img/logo.png" width="180" alt="扇屋" />
</td></tr>
<tr><td style="padding:0 24px;font-size:16px;line-height:1.7;">
いつもありがとうございます。<br />
店頭で3,000円以上お買い上げの際、このクーポン画面をお見せいただくと
500円お値引きいたします。
</td></tr>
<tr><td style="padding:24px;text-align:center;">
<div style="border:2px dashed #b22222;padding:16px;font-size:28px;color:#b22222;">
OGIYA500</div>
<p style="font-size:12px;color:#777777;">有効期限：2026年12月31日まで／お一人さま1回限り</p>
</td></tr>
<tr><td style="padding:8px 24px 24px;text-align:center;">
<a href="https://www.ogiya.example/shop/map" style="background:#b22222;color:#ffffff;
padding:12px 28px;text-decoration:none;">お店までの地図</a>
</td></tr>
</table>
<table role="presentation" width="560" cellspacing="0" cellpadding="0" border="0">
<tr><td style="padding:16px 24px;font-size:11px;color:#555555;line-height:1.8;">
このメールは扇屋商店のメール会員にご登録の方へお送りしています。<br />
配信停止は<a href="https://www.ogiya.example/mail/stop" style="color:#555555;">こちら</a><br />
扇屋商店　〒100-0013 東京都千代田区霞が関9-1-1　電話 03-1234-5678
</td></tr>
</table>
</center>
</body>""",
        ),
        "utf-8",
        "quoted-printable",
        "html",
    ),
)

add(
    "08_ogiya_shinnenkai_pdf_attachment_iso2022jp.eml",
    "ogiya",
    "advertising",
    (),
    "Every item is in the body text; the PDF attachment is extra and is not needed (D1-D5).",
    sender_name="扇屋商店",
    sender_address="news@ogiya.example",
    to="yoshida@example.jp",
    subject="2027年 新年会プランのご案内（料金表PDFを添付しています）",
    header_charset="iso-2022-jp",
    day=7,
    content=multipart(
        "mixed",
        "=_mixed_ogiya_nenkai",
        text(
            """\
吉田 様

扇屋商店では、二階の試飲スペースを新年会向けにお貸し出ししています。
お料理は近くの和食店の仕出し、お酒は当店の在庫からお選びいただけます。
詳しい料金表を PDF で添付しましたので、ご覧ください。

・貸切　10名様〜20名様
・飲み放題　2時間 4,000円より

ご予約・ご相談は 03-1234-5678（扇屋商店）まで。

このメールの配信を停止する場合は、次のURLでお手続きください。
https://www.ogiya.example/mail/stop
〒100-0013 東京都千代田区霞が関9-1-1　扇屋商店
""",
            "iso-2022-jp",
            "7bit",
        ),
        binary(FAKE_PDF, 'application/pdf; name="plan2027.pdf"', "plan2027.pdf"),
    ),
)

_HIKARI_10G_TEXT = """\
ひかり通信をご利用のお客さまへ

おうちのネットをもっと速く。最大10Gbpsの「ひかり10G」プランが、
いまなら乗り換えから3か月間、月額料金0円でご利用いただけます。

▼キャンペーンの詳細とお申し込み
https://www.hikari-net.example/campaign/10g

キャンペーン期間：2026年12月1日〜2027年1月31日
※工事費が別途かかる場合があります。

────────────────────
メール配信を停止する
https://www.hikari-net.example/mail/settings
ひかり通信株式会社
〒150-0002 東京都渋谷区渋谷2-3-4
お問い合わせ：0120-000-111（9:00〜20:00 年中無休）
────────────────────
"""

add(
    "09_hikari_10g_campaign_alternative_utf8_qp.eml",
    "hikari",
    "advertising",
    (),
    "Both alternatives carry name, opt-out link with メール配信を停止する right beside it,"
    " address and toll-free number (D1-D5).",
    sender_name="ひかり通信",
    sender_address="info@mail.hikari-net.example",
    to="kimura@example.jp",
    subject="【ひかり通信】10ギガプランへの乗り換えで3か月無料",
    day=8,
    content=multipart(
        "alternative",
        "b1_hikari_10g",
        text(_HIKARI_10G_TEXT, "utf-8", "quoted-printable"),
        text(
            html_page(
                "ひかり10G",
                """\
<body style="background:#f0f6fb;margin:0;">
<div style="display:none;font-size:1px;color:#f0f6fb;line-height:1px;max-height:0;
overflow:hidden;">3か月0円の乗り換えキャンペーン、1月31日まで。</div>
<table width="100%" cellpadding="0" cellspacing="0" role="presentation"><tr>
<td align="center">
<table width="600" cellpadding="0" cellspacing="0" role="presentation"
 style="background:#ffffff;font-family:Arial,'Hiragino Sans',sans-serif;">
<tr><td style="background:#0068b7;color:#ffffff;padding:18px 24px;font-size:20px;">
ひかり10G 乗り換えキャンペーン</td></tr>
<tr><td style="padding:24px;font-size:15px;line-height:1.8;color:#222222;">
おうちのネットをもっと速く。最大10Gbpsの「ひかり10G」プランが、
いまなら乗り換えから3か月間、月額料金0円でご利用いただけます。
</td></tr>
<tr><td align="center" style="padding:0 24px 24px;">
<table cellpadding="0" cellspacing="0" role="presentation"><tr>
<td style="background:#ff7a00;border-radius:24px;">
<a href="https://www.hikari-net.example/campaign/10g" style="display:block;padding:12px 40px;
color:#ffffff;text-decoration:none;font-weight:bold;">詳細・お申し込み</a></td>
</tr></table>
</td></tr>
<tr><td style="padding:0 24px 16px;font-size:12px;color:#666666;">
キャンペーン期間：2026年12月1日〜2027年1月31日<br />
※工事費が別途かかる場合があります。</td></tr>
<tr><td style="padding:16px 24px;font-size:12px;color:#666666;background:#f7f7f7;">
<a href="https://www.hikari-net.example/mail/settings">メール配信を停止する</a><br />
ひかり通信株式会社<br />
〒150-0002 東京都渋谷区渋谷2-3-4<br />
お問い合わせ：0120-000-111（9:00〜20:00 年中無休）
</td></tr>
</table>
</td></tr></table>
</body>""",
            ),
            "utf-8",
            "quoted-printable",
            "html",
        ),
    ),
)

add(
    "10_hikari_security_fullwidth_phone_iso2022jp.eml",
    "hikari",
    "advertising",
    (),
    "Phone number in full-width digits and 渋谷二丁目3番4号 are still D5 and D4; the"
    " statement wraps onto the line right above the URL (D3).",
    sender_name="ひかり通信株式会社",
    sender_address="news@hikari-net.example",
    to="kimura@example.jp",
    subject="ひかり通信 年末のセキュリティ診断 無料キャンペーン",
    header_charset="iso-2022-jp",
    day=9,
    content=text(
        """\
木村 様

いつもひかり通信をご利用いただき、ありがとうございます。

年末年始は、ご家族でパソコンやスマートフォンを使う機会が増える時期です。
いまなら「おうちセキュリティ診断」を無料でお試しいただけます。
専門スタッフがお電話でご自宅のWi-Fi設定を確認し、改善点をご案内します。

お申し込み　https://www.hikari-net.example/security/check

＿＿＿＿＿＿＿＿＿＿＿＿＿＿＿＿＿＿＿＿
ひかり通信株式会社
東京都渋谷区渋谷二丁目3番4号
カスタマーセンター　０１２０−０００−１１１
メールマガジンの受け取りを停止される場合は、
こちらで設定を変更してください。
https://www.hikari-net.example/mail/settings
""",
        "iso-2022-jp",
        "7bit",
    ),
)

add(
    "11_hikari_b2b_seminar_navidial_eucjp.eml",
    "hikari",
    "advertising",
    (),
    "Enquiries by 0570 navi-dial and an 050 IP number are D5; the line right above the"
    " opt-out URL says how to stop further mail (D3).",
    sender_name="ひかり通信 法人営業部",
    sender_address="biz@hikari-net.example",
    to="soumu@sample-shoji.example.co.jp",
    subject="法人向け「ひかりオフィス」導入説明会のご案内",
    header_charset="iso-2022-jp",
    day=10,
    content=text(
        """\
株式会社サンプル商事
総務ご担当者様

ひかり通信株式会社 法人営業部の山本でございます。
中小企業さま向けのオフィス回線サービス「ひかりオフィス」について、
オンライン説明会を開催いたします。

　日時　2027年1月20日（水）15:00〜16:00
　形式　オンライン（参加URLはお申し込み後にお送りします）
　費用　無料
　内容　固定IPつき回線、ビジネスフォン連携、導入事例のご紹介

お申し込みフォーム：https://www.hikari-net.example/biz/seminar0120

■本件および当社へのご意見・お問い合わせ
　法人営業部　0570-012-345（ナビダイヤル）
　IP電話からは 050-3000-1234

■今後、法人向けのご案内メールの配信を停止するには
　https://www.hikari-net.example/mail/settings

ひかり通信株式会社　〒150-0002 東京都渋谷区渋谷2-3-4
""",
        "euc-jp",
        "8bit",
    ),
)

add(
    "12_hikari_bill_incidental_named_iso2022jp.eml",
    "hikari",
    "incidental",
    (),
    "A bill with an ad riding on it (O3 a): D7 asks for D1 only, and the name is there.",
    sender_name="ひかり通信 料金センター",
    sender_address="billing@hikari-net.example",
    to="tanaka@example.jp",
    subject="【ひかり通信】12月分ご利用料金確定のお知らせ",
    header_charset="iso-2022-jp",
    day=11,
    content=text(
        """\
田中 様

2026年12月分のご利用料金が確定しましたのでお知らせします。

　ご請求金額　　5,478円（税込）
　　ひかり1Gプラン　4,980円
　　消費税　　　　　498円
　お引き落とし日　2027年1月26日

明細はマイページでご確認いただけます。
https://www.hikari-net.example/mypage/bill

☆★ ご紹介キャンペーン実施中 ☆★
ご家族・ご友人をご紹介いただくと、おふたりに2,000円分の割引をプレゼント。
https://www.hikari-net.example/referral/

ひかり通信株式会社 料金センター
""",
        "iso-2022-jp",
        "7bit",
    ),
)

_HIKARI_FILTER_TEXT = """\
ひかり通信をご利用のお客さまへ

2027年2月1日より、ひかりメールの迷惑メールフィルタの初期設定を変更します。
変更後は、迷惑メールと判定されたメールが「迷惑メール」フォルダに自動で振り分けられます。
これまでどおり受信箱で受け取りたい場合は、マイページから設定を戻せます。

▼設定方法
https://www.hikari-net.example/support/mail-filter

───
今月のおすすめ：ひかりでんきとのセット割で、毎月300円おトクに。
https://www.hikari-net.example/denki/
───

ひかり通信株式会社
"""

add(
    "13_hikari_service_change_incidental_alternative_utf8_b64.eml",
    "hikari",
    "incidental",
    (),
    "A service-change notice with an ad (O3 a): D1 only (D7), present in both alternatives.",
    sender_name="ひかり通信",
    sender_address="notice@hikari-net.example",
    to="kimura@example.jp",
    subject="【重要】ひかりメール 迷惑メールフィルタの仕様変更について",
    day=12,
    content=multipart(
        "alternative",
        "alt-hikari-filter-0201",
        text(_HIKARI_FILTER_TEXT, "utf-8", "base64"),
        text(
            """\
<html><body style="font-family:sans-serif;font-size:14px;color:#222;">
<p>ひかり通信をご利用のお客さまへ</p>
<p>2027年2月1日より、ひかりメールの迷惑メールフィルタの初期設定を変更します。<br>
変更後は、迷惑メールと判定されたメールが「迷惑メール」フォルダに自動で振り分けられます。<br>
これまでどおり受信箱で受け取りたい場合は、マイページから設定を戻せます。</p>
<p><a href="https://www.hikari-net.example/support/mail-filter">設定方法はこちら</a></p>
<hr>
<p style="font-size:12px;">今月のおすすめ：ひかりでんきとのセット割で、毎月300円おトクに。
<a href="https://www.hikari-net.example/denki/">ひかりでんき</a></p>
<hr>
<p>ひかり通信株式会社</p>
</body></html>
""",
            "utf-8",
            "base64",
            "html",
        ),
    ),
)

add(
    "14_hikari_maintenance_non_advertising_iso2022jp.eml",
    "hikari",
    "non_advertising",
    (),
    "A maintenance notice with no ad is no specified mail (S1): no display duty at all.",
    sender_name="ひかり通信 ネットワーク運用センター",
    sender_address="noc@hikari-net.example",
    to="kimura@example.jp",
    subject="【ひかり通信】ネットワーク工事のお知らせ（12月15日深夜）",
    header_charset="iso-2022-jp",
    day=13,
    content=text(
        """\
お客さま各位

下記の日程で、渋谷区・目黒区の一部地域において設備工事を行います。
工事中は、最大30分程度インターネットに接続できない時間が発生します。

　日時：2026年12月15日（火）午前1時〜午前5時
　対象：渋谷区神南・宇田川町、目黒区駒場の一部

ご不便をおかけしますが、ご理解のほどお願い申し上げます。

ひかり通信 ネットワーク運用センター
""",
        "iso-2022-jp",
        "7bit",
    ),
)

add(
    "15_minato_winter_sale_english_ascii.eml",
    "minato",
    "advertising",
    (),
    "English only: the unsubscribe sentence is the line above the URL (D3); the company name,"
    " a Western postal address and a support address (D1, D4, D5).",
    sender_name="Minato Denshi",
    sender_address="mag@minato.example",
    to="yoshida@example.jp",
    subject="Minato Denshi Winter Sale - up to 30% off headphones",
    day=14,
    extra=LIST_UNSUB_MINATO,
    content=text(
        """\
Hello Yoshida-san,

Our winter sale starts today. Noise-cancelling headphones, portable
speakers and USB-C chargers are up to 30% off until December 27.

  - MD-700 wireless headphones ....... JPY 19,800 (was 26,400)
  - Pocket speaker S2 ................ JPY  6,980 (was  8,800)
  - 65 W GaN charger ................. JPY  3,480 (was  4,400)

Shop the sale: https://shop.minato.example/sale/winter

--
You are receiving this because you signed up at shop.minato.example.
To unsubscribe from these emails, visit:
https://shop.minato.example/unsubscribe

Minato Denshi Co., Ltd.
1-2-3 Umeda, Kita-ku, Osaka 530-0001, Japan
Questions? Write to support@minato.example
""",
        "us-ascii",
        "7bit",
    ),
)

_MINATO_AIR3_TEXT = """\
吉田 様 / Dear Yoshida-san,

新作完全ワイヤレスイヤホン「MD-AIR3」の先行予約を開始しました。
Pre-orders for our new MD-AIR3 true wireless earbuds are now open.

・発売日 Release: 2027年1月15日 / January 15, 2027
・価格 Price: 14,800円（税込）
・予約特典 Bonus: 専用シリコンケース / silicone case

予約する / Pre-order: https://shop.minato.example/md-air3

----
配信停止 / Unsubscribe:
https://shop.minato.example/unsubscribe
株式会社みなと電子 (Minato Denshi Co., Ltd.)
〒530-0001 大阪府大阪市北区梅田1-2-3
Tel: +81-6-6123-4567（海外からのお問い合わせ / calls from overseas）
"""

add(
    "16_minato_preorder_bilingual_plus81_alternative_utf8_qp.eml",
    "minato",
    "advertising",
    (),
    "Bilingual; the enquiry number in +81 form is a phone number (D5); 配信停止 / Unsubscribe"
    " is the line above the URL and the anchor text of the link (D3).",
    sender_name="Minato Denshi",
    sender_address="mag@minato.example",
    to="yoshida@example.jp",
    subject="【Minato Denshi】新作イヤホン MD-AIR3 先行予約 / Pre-order now",
    day=15,
    extra=LIST_UNSUB_MINATO,
    content=multipart(
        "alternative",
        "minato-air3-alt",
        text(_MINATO_AIR3_TEXT, "utf-8", "quoted-printable"),
        text(
            """\
<html><head><meta charset="utf-8"></head>
<body style="font-family:'Helvetica Neue',Arial,sans-serif;">
<p>吉田 様 / Dear Yoshida-san,</p>
<p>新作完全ワイヤレスイヤホン「MD-AIR3」の先行予約を開始しました。<br>
Pre-orders for our new MD-AIR3 true wireless earbuds are now open.</p>
<ul>
<li>発売日 Release: 2027年1月15日 / January 15, 2027</li>
<li>価格 Price: 14,800円（税込）</li>
<li>予約特典 Bonus: 専用シリコンケース / silicone case</li>
</ul>
<p><a href="https://shop.minato.example/md-air3">予約する / Pre-order</a></p>
<hr>
<p style="font-size:11px;color:#666;">
<a href="https://shop.minato.example/unsubscribe">配信停止 / Unsubscribe</a><br>
株式会社みなと電子 (Minato Denshi Co., Ltd.)<br>
〒530-0001 大阪府大阪市北区梅田1-2-3<br>
Tel: +81-6-6123-4567（海外からのお問い合わせ / calls from overseas）</p>
</body></html>
""",
            "utf-8",
            "quoted-printable",
            "html",
        ),
    ),
)

add(
    "17_minato_points_fullwidth_latin_name_sjis.eml",
    "minato",
    "advertising",
    (),
    "The English company name in full-width letters is the sender's name (D1); address"
    " with full-width digits (D4); support address and phone (D5).",
    sender_name="MINATO ONLINE SHOP",
    sender_address="mag@minato.example",
    to="yoshida@example.jp",
    subject="ＭＩＮＡＴＯ 会員さま限定 ポイント5倍デー",
    header_charset="shift_jis",
    day=16,
    content=text(
        """\
会員のみなさま

いつも当ショップをご利用いただき、ありがとうございます。
12月19日（土）・20日（日）の2日間は、会員さま限定の「ポイント5倍デー」です。
ログインしてからお買い物をすると、自動で5倍のポイントがつきます。

　人気のモバイルバッテリーや、年末の大掃除に便利なハンディ掃除機など、
　ポイントでおトクにお求めいただけるチャンスです。

▽ショップはこちら
https://shop.minato.example/

□配信停止をご希望の方は、次のURLからお手続きください。
　https://shop.minato.example/unsubscribe
□Ｍｉｎａｔｏ　Ｄｅｎｓｈｉ　Ｃｏ．，　Ｌｔｄ．
　〒530-0001 大阪府大阪市北区梅田１−２−３
　お問い合わせ　support@minato.example ／ ０６−６１２３−４５６７
""",
        "shift_jis",
        "8bit",
    ),
)

add(
    "18_minato_app_coupon_notification_utf8_8bit.eml",
    "minato",
    "advertising",
    (),
    "App-notification style: the opt-out sentence and the URL share one line (D3); name,"
    " address and support address (D1, D4, D5).",
    sender_name="みなと電子アプリ",
    sender_address="app@minato.example",
    to="yoshida@example.jp",
    subject="【みなと電子アプリ】本日限定クーポンが届いています",
    day=17,
    content=text(
        """\
みなと電子アプリからのお知らせ

本日23:59まで使える「500円OFFクーポン」がアプリに届いています。
3,000円以上のお買い物でご利用いただけます。

アプリで開く：https://app.minato.example/open?c=DEC500

※このメールは、アプリの「メールでもお知らせを受け取る」を
　オンにしている方にお送りしています。
※メールでのお知らせが不要になったら、こちらから停止できます：https://shop.minato.example/unsubscribe

株式会社みなと電子　大阪府大阪市北区梅田1-2-3
サポート窓口 support@minato.example
""",
        "utf-8",
        "8bit",
    ),
)

_MINATO_WEBINAR_TEXT = """\
製造業のご担当者様

株式会社みなと電子 法人営業部です。
先日の展示会では、当社ブースにお立ち寄りいただきありがとうございました。

工場の設備保全に役立つ「IoT振動センサー」の活用ウェビナーを開催します。
センサーの取り付けから、異常の予兆をとらえるダッシュボードの使い方まで、
実際の導入事例をもとにご紹介します。

■開催日時：2027年1月28日（木）14:00〜15:00
■参加費：無料（事前登録制）
■お申し込み：https://biz.minato.example/webinar/0128

───────────────────────────
本メールは、展示会で名刺を交換させていただいた方にお送りしています。
今後のご案内を希望されない場合は、下記URLより配信を停止してください。
https://shop.minato.example/unsubscribe?list=biz
───────────────────────────
株式会社みなと電子　法人営業部
〒530-0001 大阪府大阪市北区梅田1-2-3
TEL 06-6123-4567　MAIL biz@minato.example
"""

add(
    "19_minato_iot_webinar_alternative_sjis.eml",
    "minato",
    "advertising",
    (),
    "B2B invitation to a business-card contact (C2): both Shift_JIS alternatives carry"
    " the statement right above the URL and every other item (D1-D5).",
    sender_name="株式会社みなと電子 法人営業部",
    sender_address="biz@minato.example",
    to="tanaka@factory.example.co.jp",
    subject="【法人様向け】IoTセンサー活用ウェビナー（1月28日開催）",
    header_charset="iso-2022-jp",
    day=18,
    content=multipart(
        "alternative",
        "==minato_biz_0128==",
        text(_MINATO_WEBINAR_TEXT, "shift_jis", "8bit"),
        text(
            """\
<html>
<head><meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS"></head>
<body>
<table width="640" cellpadding="10" style="font-size:14px;">
<tr><td>製造業のご担当者様</td></tr>
<tr><td>株式会社みなと電子 法人営業部です。<br>
先日の展示会では、当社ブースにお立ち寄りいただきありがとうございました。</td></tr>
<tr><td>工場の設備保全に役立つ「IoT振動センサー」の活用ウェビナーを開催します。<br>
センサーの取り付けから、異常の予兆をとらえるダッシュボードの使い方まで、
実際の導入事例をもとにご紹介します。</td></tr>
<tr><td>
<b>開催日時</b>：2027年1月28日（木）14:00〜15:00<br>
<b>参加費</b>：無料（事前登録制）<br>
<a href="https://biz.minato.example/webinar/0128">お申し込みはこちら</a></td></tr>
<tr><td style="font-size:12px;color:#555555;">
本メールは、展示会で名刺を交換させていただいた方にお送りしています。<br>
今後のご案内を希望されない場合は、下記URLより配信を停止してください。<br>
<a href="https://shop.minato.example/unsubscribe?list=biz">https://shop.minato.example/unsubscribe?list=biz</a>
</td></tr>
<tr><td style="font-size:12px;color:#555555;">
株式会社みなと電子　法人営業部<br>
〒530-0001 大阪府大阪市北区梅田1-2-3<br>
TEL 06-6123-4567　MAIL <a href="mailto:biz@minato.example">biz@minato.example</a>
</td></tr>
</table>
</body>
</html>
""",
            "shift_jis",
            "base64",
            "html",
        ),
    ),
)

add(
    "20_minato_robot_cleaner_anchor_links_alternative_utf8_qp.eml",
    "minato",
    "advertising",
    (),
    "HTML links whose anchor text says what they do: メール配信の停止はこちら (D2+D3 on the"
    " link), お問い合わせはこちら as mailto (D5); the text view says the same.",
    sender_name="株式会社みなと電子",
    sender_address="mag@minato.example",
    to="yoshida@example.jp",
    subject="年末の大掃除に。ロボット掃除機 特集",
    day=19,
    extra=LIST_UNSUB_MINATO,
    content=multipart(
        "alternative",
        "alt_robot_1219",
        text(
            """\
吉田 様

年末の大掃除、今年はロボット掃除機に任せてみませんか。
段差に強い新モデルから、水拭きもできる2in1タイプまで、6機種をそろえました。

特集ページ：https://shop.minato.example/feature/robot

メール配信の停止はこちら：https://shop.minato.example/unsubscribe
お問い合わせ：support@minato.example
株式会社みなと電子
〒530-0001 大阪府大阪市北区梅田1-2-3
""",
            "utf-8",
            "quoted-printable",
        ),
        text(
            """\
<html><body>
<div style="max-width:600px;margin:0 auto;font-family:sans-serif;">
<p>吉田 様</p>
<p>年末の大掃除、今年はロボット掃除機に任せてみませんか。<br>
段差に強い新モデルから、水拭きもできる2in1タイプまで、6機種をそろえました。</p>
<p style="text-align:center;"><a href="https://shop.minato.example/feature/robot"
 style="background:#00897b;color:#fff;padding:10px 30px;text-decoration:none;">特集を見る</a></p>
<div style="font-size:12px;color:#555;border-top:1px solid #ccc;padding-top:8px;">
<a href="https://shop.minato.example/unsubscribe">メール配信の停止はこちら</a>　｜
<a href="mailto:support@minato.example">お問い合わせはこちら</a><br>
株式会社みなと電子<br>
〒530-0001 大阪府大阪市北区梅田1-2-3
</div>
</div>
</body></html>
""",
            "utf-8",
            "quoted-printable",
            "html",
        ),
    ),
)

add(
    "21_minato_fukubukuro_statement_after_url_utf8_qp.eml",
    "minato",
    "advertising",
    (),
    "The opt-out statement is the line right after the URL (直後, D3); name, address, phone.",
    sender_name="株式会社みなと電子",
    sender_address="mag@minato.example",
    to="yoshida@example.jp",
    subject="【みなと電子】福袋2027 予約受付を開始しました",
    day=20,
    content=text(
        """\
吉田 様

毎年すぐに売り切れてしまう「みなと電子の福袋」、2027年版の予約受付を始めました。
中身は家電好きのスタッフが選んだ、合計3万円相当のガジェットです。

　・ガジェット福袋　10,000円（税込）
　・オーディオ福袋　15,000円（税込）
　・予約期間　12月20日〜12月28日（数量限定）

予約ページ　https://shop.minato.example/fukubukuro2027

https://shop.minato.example/unsubscribe
↑ 今後このようなメールの受信を希望されない方は、上記URLからお手続きください。

株式会社みなと電子
〒530-0001 大阪府大阪市北区梅田1-2-3　電話 06-6123-4567
""",
        "utf-8",
        "quoted-printable",
    ),
)

add(
    "22_komorebi_table_fair_maru_kabu_optout_by_mail_utf8_b64.eml",
    "komorebi",
    "advertising",
    (),
    "Opt-out by mail to a displayed address with the statement right above it (O2, D2, D3);"
    " ㈱ is 株式会社 (D1).",
    sender_name="㈱こもれび工房",
    sender_address="news@komorebi.example",
    to="yoshida@example.jp",
    subject="㈱こもれび工房｜無垢材ダイニングテーブル 受注会のお知らせ",
    day=21,
    content=text(
        """\
吉田 様

名古屋の家具工房、㈱こもれび工房です。
年に一度の「無垢材ダイニングテーブル受注会」を1月に開催します。
ナラ、ウォールナット、山桜の3樹種から、天板のサイズと脚の形をお選びいただけます。

　会期：2027年1月9日（土）〜1月17日（日）
　会場：こもれび工房 ショールーム（名古屋市中区栄）
　受注会特典：送料無料、天板の名入れ無料

ショールームのご予約：https://www.komorebi.example/showroom

----------------------------------------
メール配信の停止をご希望の方は、件名に「配信停止」とご記入のうえ、
下記のアドレスまでメールをお送りください。
teishi@komorebi.example
----------------------------------------
㈱こもれび工房
〒460-0008 愛知県名古屋市中区栄3-15-8
TEL 052-000-1234
""",
        "utf-8",
        "base64",
    ),
)

add(
    "23_komorebi_architect_seminar_paren_kabu_iso2022jp.eml",
    "komorebi",
    "advertising",
    (),
    "(株) is 株式会社 (D1); ご案内の停止 with the address on the same line (D2, D3);"
    " address and phone (D4, D5).",
    sender_name="(株)こもれび工房 特注家具部",
    sender_address="tokuchu@komorebi.example",
    to="info@sekkei-office.example.jp",
    subject="設計事務所さま向け 造作家具セミナーのご案内",
    header_charset="iso-2022-jp",
    day=22,
    content=text(
        """\
設計事務所 ご担当者さま

(株)こもれび工房 特注家具部の森と申します。
住宅・店舗の造作家具をご検討中の設計者さま向けに、
工房見学をかねた少人数のセミナーを開きます。

　テーマ：無垢材で造作する際の収まりと、反り・割れへの備え
　日時：2027年2月5日（金）13:30〜16:00
　場所：(株)こもれび工房 本社工房
　定員：8名（先着順）

お申し込みは、このメールへのご返信か、下記フォームからどうぞ。
https://www.komorebi.example/seminar/architects

ご案内の停止：teishi@komorebi.example までご連絡ください。

(株)こもれび工房
〒460-0008 愛知県名古屋市中区栄3-15-8
電話 052-000-1234（平日9時〜17時）
""",
        "iso-2022-jp",
        "7bit",
    ),
)

add(
    "24_komorebi_oil_care_workshop_fullwidth_paren_kabu_eucjp.eml",
    "komorebi",
    "advertising",
    (),
    "（株） in full-width brackets is 株式会社 (D1); statement right above the opt-out"
    " address (D3); address and phone (D4, D5).",
    sender_name="こもれび工房",
    sender_address="news@komorebi.example",
    to="yoshida@example.jp",
    subject="【こもれび工房】冬のメンテナンス講座（オイル仕上げのお手入れ）",
    header_charset="iso-2022-jp",
    day=23,
    content=text(
        """\
吉田 様

乾燥する冬は、無垢材の家具にとって少し厳しい季節です。
オイル仕上げの家具をお持ちの方に向けて、お手入れ講座を開きます。
紙やすりのかけ方から、オイルの塗り方・拭き取り方まで、実際に手を動かして学べます。

　日時：1月24日（日）10:00〜12:00
　受講料：2,000円（オイルとクロスのお土産つき）
　お申し込み：https://www.komorebi.example/school/oilcare

・・・・・・・・・・・・・・・・・・・・
このメールがご不要な方は、お手数ですが下記までお知らせください。
teishi@komorebi.example
（株）こもれび工房
〒460-0008 愛知県名古屋市中区栄3-15-8
TEL 052-000-1234
・・・・・・・・・・・・・・・・・・・・
""",
        "euc-jp",
        "8bit",
    ),
)

add(
    "25_komorebi_newyear_html_mailto_utf8_qp.eml",
    "komorebi",
    "advertising",
    (),
    "HTML only: the opt-out address is shown as a mailto link right after its label"
    " 配信停止のご連絡先 (D2, D3); name, address, phone (D1, D4, D5).",
    sender_name="株式会社こもれび工房",
    sender_address="news@komorebi.example",
    to="yoshida@example.jp",
    subject="新年のごあいさつと、初売りのお知らせ",
    day=24,
    content=text(
        html_page(
            "初売りのお知らせ",
            """\
<body style="margin:0;background:#faf7f2;">
<table role="presentation" width="100%"><tr><td align="center">
<table role="presentation" width="580" style="background:#ffffff;font-family:serif;
color:#3e3a36;">
<tr><td style="padding:32px 32px 0;font-size:13px;letter-spacing:2px;">KOMOREBI KOBO</td></tr>
<tr><td style="padding:16px 32px;font-size:20px;">初売りは1月4日から</td></tr>
<tr><td style="padding:0 32px 16px;font-size:14px;line-height:2;">
旧年中は格別のお引き立てをいただき、ありがとうございました。<br>
新年は1月4日より営業いたします。初売り期間中は、スツールと小引き出しを
15%お値引きいたします。
</td></tr>
<tr><td style="padding:0 32px 24px;">
<a href="https://www.komorebi.example/shop/hatsuuri" style="color:#3e3a36;">初売りの品を見る</a>
</td></tr>
<tr><td style="padding:16px 32px 32px;font-size:12px;line-height:1.9;background:#f2ede4;">
配信停止のご連絡先：<a
href="mailto:teishi@komorebi.example?subject=stop">teishi@komorebi.example</a><br>
株式会社こもれび工房<br>
〒460-0008 愛知県名古屋市中区栄3-15-8<br>
TEL 052-000-1234
</td></tr>
</table>
</td></tr></table>
</body>""",
        ),
        "utf-8",
        "quoted-printable",
        "html",
    ),
)

add(
    "26_yamabiko_kuradayori_reply_optout_top_iso2022jp.eml",
    "yamabiko",
    "advertising",
    (),
    "Opt-out by replying to the sending address, stated at the top: 'anywhere, easy to see'"
    " (LAW.md D3, slides ③); the address is shown in the footer (D2), D1/D4/D5 too.",
    sender_name="合同会社やまびこ酒造",
    sender_address="info@yamabiko.example",
    to="sato@example.co.jp",
    subject="やまびこ酒造 蔵だより 師走号",
    header_charset="iso-2022-jp",
    day=25,
    content=text(
        """\
※このメールにそのまま「停止」とご返信いただければ、次回から配信を止めます。

佐藤 様

やまびこ酒造の蔵だより、師走号をお届けします。

松本は朝晩の冷え込みが厳しくなり、蔵では仕込みがいよいよ本番を迎えました。
今年は酒米の出来がよく、もろみも穏やかに育っています。

今月の新酒は、搾ったばかりの「しぼりたて生原酒」です。
火入れをしていないので、ガス感のある若々しい香りが楽しめます。

　しぼりたて生原酒　720ml　1,980円（税込）
　発売日　12月18日（金）
　ご注文　https://www.yamabiko.example/shop/shiboritate

蔵見学は冬のあいだもお受けしています。
ご希望の日時をお電話でお知らせください。

――――――――――――
合同会社やまびこ酒造
〒390-0811 長野県松本市中央4-5-6
電話 0263-00-1234 ／ メール info@yamabiko.example
""",
        "iso-2022-jp",
        "7bit",
    ),
)

add(
    "27_yamabiko_shinshu_reply_optout_middle_sjis_b64.eml",
    "yamabiko",
    "advertising",
    (),
    "Opt-out by reply to the sending address, stated in the middle of the text: anywhere is"
    " fine (D3); (同) is 合同会社 (D1); address and phone (D4, D5).",
    sender_name="やまびこ酒造",
    sender_address="info@yamabiko.example",
    to="sato@example.co.jp",
    subject="新酒の会のご案内（1月30日・松本）",
    header_charset="shift_jis",
    day=26,
    content=text(
        """\
佐藤 様

いつも蔵だよりをお読みいただき、ありがとうございます。
1月30日（土）に、蔵の二階で「新酒の会」を開きます。

今季仕込んだ五種類の新酒を、信州の郷土料理と一緒に味わっていただく会です。
杜氏が仕込みの苦労話などもお話しします。

蔵だよりの配信停止は、このメールへの返信で承ります（本文に「不要」とだけお書きください）。

　会費　6,000円
　定員　30名
　お申し込み　お電話、または https://www.yamabiko.example/event/shinshu

当日は松本駅から送迎バスを出します。どうぞお気軽にご参加ください。

(同)やまびこ酒造
長野県松本市中央4-5-6
TEL 0263-00-1234
mail info@yamabiko.example
""",
        "shift_jis",
        "base64",
    ),
)

_MINATO_NEWS_TEXT = """\
みなと電子 NEWS Vol.48｜冬のガジェット特集

■ 寒い朝の味方、USBあったかグッズ
  手袋のままでも操作できるタッチペンと、USB給電のひざ掛けを集めました。
  https://shop.minato.example/feature/winter-usb

■ 年末年始の移動に、ノイズキャンセリング
  新幹線や飛行機で眠りたい方へ。装着感の軽いモデルを比べました。
  https://shop.minato.example/feature/nc

■ スタッフのおすすめ：卓上IHクッカー
  一人鍋にちょうどいいサイズ。タイマー付きで消し忘れも安心です。
  https://shop.minato.example/item/ih-mini

-----------------------------------------
このメールは配信を希望された方へお送りしています。
配信停止：https://shop.minato.example/unsubscribe
配信先の変更：https://shop.minato.example/mypage/mail
株式会社みなと電子
〒530-0001 大阪府大阪市北区梅田1-2-3
お問い合わせ support@minato.example
"""

add(
    "28_minato_news_vol48_builder_alternative_utf8_qp.eml",
    "minato",
    "advertising",
    (),
    "Builder newsletter with a hidden preheader and image alt texts; the visible footer in"
    " both alternatives has 配信停止 on the link, name, address, support address (D1-D5).",
    sender_name="みなと電子 NEWS",
    sender_address="news@minato.example",
    to="yoshida@example.jp",
    subject="みなと電子 NEWS Vol.48｜冬のガジェット特集",
    day=27,
    extra=LIST_UNSUB_MINATO,
    content=multipart(
        "alternative",
        "_----------=_NEWS48_ALT",
        text(_MINATO_NEWS_TEXT, "utf-8", "quoted-printable"),
        text(
            html_page(
                "みなと電子 NEWS Vol.48",
                """\
<body style="margin:0;padding:0;background-color:#e9eef3;">
<div class="preheader" style="display:none;max-height:0;overflow:hidden;">
寒い朝の味方から一人鍋まで、冬のガジェットを集めました。</div>
<table role="presentation" border="0" cellpadding="0" cellspacing="0" width="100%">
<tr><td align="center" style="padding:16px 0;">
<table role="presentation" border="0" cellpadding="0" cellspacing="0" width="600"
 style="background-color:#ffffff;">
<tr><td style="padding:0;"><img src="https://img.minato.example/news48/header.jpg"
 width="600" alt="みなと電子 NEWS Vol.48 冬のガジェット特集" style="display:block;" /></td></tr>
<tr><td style="padding:24px 28px 8px;font-family:sans-serif;font-size:18px;color:#0d3b66;">
寒い朝の味方、USBあったかグッズ</td></tr>
<tr><td style="padding:0 28px 16px;font-family:sans-serif;font-size:14px;line-height:1.7;">
手袋のままでも操作できるタッチペンと、USB給電のひざ掛けを集めました。<br />
<a href="https://shop.minato.example/feature/winter-usb"
 style="color:#0d3b66;">詳しく見る</a></td></tr>
<tr><td style="padding:24px 28px 8px;font-family:sans-serif;font-size:18px;color:#0d3b66;">
年末年始の移動に、ノイズキャンセリング</td></tr>
<tr><td style="padding:0 28px 16px;font-family:sans-serif;font-size:14px;line-height:1.7;">
新幹線や飛行機で眠りたい方へ。装着感の軽いモデルを比べました。<br />
<a href="https://shop.minato.example/feature/nc" style="color:#0d3b66;">詳しく見る</a></td></tr>
<tr><td style="padding:24px 28px 8px;font-family:sans-serif;font-size:18px;color:#0d3b66;">
スタッフのおすすめ：卓上IHクッカー</td></tr>
<tr><td style="padding:0 28px 24px;font-family:sans-serif;font-size:14px;line-height:1.7;">
一人鍋にちょうどいいサイズ。タイマー付きで消し忘れも安心です。<br />
<a href="https://shop.minato.example/item/ih-mini" style="color:#0d3b66;">詳しく見る</a></td></tr>
<tr><td style="padding:20px 28px;font-family:sans-serif;font-size:11px;line-height:1.8;
color:#666666;background-color:#f5f7f9;">
このメールは配信を希望された方へお送りしています。<br />
<a href="https://shop.minato.example/unsubscribe" style="color:#666666;">配信停止</a>　｜
<a href="https://shop.minato.example/mypage/mail" style="color:#666666;">配信先の変更</a><br />
株式会社みなと電子<br />
〒530-0001 大阪府大阪市北区梅田1-2-3<br />
お問い合わせ <a href="mailto:support@minato.example"
 style="color:#666666;">support@minato.example</a>
</td></tr>
</table>
</td></tr>
</table>
</body>""",
            ),
            "utf-8",
            "quoted-printable",
            "html",
        ),
    ),
)

add(
    "29_hikari_app_usage_report_mixed_html_utf8_b64.eml",
    "hikari",
    "advertising",
    (),
    "Mixed Japanese/English app mail, HTML only: 'Unsubscribe / 配信停止' as the link text"
    " (D2, D3), name, address, 0120 number (D1, D4, D5).",
    sender_name="Hikari App",
    sender_address="app@hikari-net.example",
    to="kimura@example.jp",
    subject="Hikari App: 11月の通信量レポート & ギガ追加キャンペーン",
    day=28,
    content=text(
        """\
<!doctype html>
<html lang="ja"><head><meta charset="utf-8">
<style>
 .card { border:1px solid #d0d7de; border-radius:8px; padding:16px; margin:12px 0; }
 .big { font-size:32px; font-weight:bold; color:#0068b7; }
 .foot { font-size:11px; color:#6e7781; }
</style></head>
<body>
<div style="max-width:520px;margin:0 auto;font-family:-apple-system,'Hiragino Sans',sans-serif;">
<h2>Your November report / 11月の通信量レポート</h2>
<div class="card">
<p>今月の通信量 Data used</p>
<p class="big">38.2 GB</p>
<p>先月より 4.1 GB 増えました。</p>
</div>
<div class="card">
<p><b>Winter Giga Campaign</b><br>
1月末まで、ギガ追加オプションが初月無料。動画をたっぷり楽しめます。</p>
<p><a href="https://www.hikari-net.example/app/giga">Get it / 申し込む</a></p>
</div>
<p class="foot">
<a href="https://www.hikari-net.example/mail/settings">Unsubscribe / 配信停止</a><br>
ひかり通信株式会社 Hikari Tsushin<br>
〒150-0002 東京都渋谷区渋谷2-3-4<br>
Support: 0120-000-111
</p>
</div>
</body></html>
""",
        "utf-8",
        "base64",
        "html",
    ),
)

add(
    "30_ogiya_osechi_html_table_footer_eucjp.eml",
    "ogiya",
    "advertising",
    (),
    "EUC-JP HTML with a two-column footer table: the 配信停止 label cell and the URL cell sit"
    " on one row (D2, D3); name, address, phone (D1, D4, D5).",
    sender_name="扇屋商店",
    sender_address="news@ogiya.example",
    to="yoshida@example.jp",
    subject="【扇屋商店】おせちに合う日本酒セレクション",
    header_charset="iso-2022-jp",
    day=29,
    content=text(
        """\
<html>
<head><meta http-equiv="Content-Type" content="text/html; charset=EUC-JP"></head>
<body bgcolor="#fffdf8">
<table width="600" border="0" cellpadding="8" cellspacing="0">
<tr><td colspan="2"><font size="4" color="#7a1f1f">おせちに合う日本酒セレクション</font></td></tr>
<tr><td colspan="2">
黒豆や伊達巻の甘さには、やわらかな純米吟醸を。<br>
数の子や田作りには、きりっとした辛口の本醸造を。<br>
お正月の食卓に合わせて、店主が三本を選びました。
</td></tr>
<tr><td colspan="2">
<a href="https://www.ogiya.example/osechi-set/">おせちセット（3本）7,700円 を見る</a>
</td></tr>
<tr><td colspan="2"><hr></td></tr>
<tr><td width="120"><font size="2">配信停止</font></td>
<td><font size="2"><a href="https://www.ogiya.example/mail/stop">https://www.ogiya.example/mail/stop</a></font></td></tr>
<tr><td><font size="2">発行</font></td><td><font size="2">扇屋商店</font></td></tr>
<tr><td><font size="2">所在地</font></td>
<td><font size="2">〒100-0013 東京都千代田区霞が関9-1-1</font></td></tr>
<tr><td><font size="2">電話</font></td><td><font size="2">03-1234-5678</font></td></tr>
</table>
</body>
</html>
""",
        "euc-jp",
        "8bit",
        "html",
    ),
)

_ICS = """\
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//komorebi.example//seminar//JA
METHOD:PUBLISH
BEGIN:VEVENT
UID:seminar-20270123@komorebi.example
DTSTART:20270123T010000Z
DTEND:20270123T020000Z
SUMMARY:Online furniture seminar
LOCATION:https://www.komorebi.example/live/0123
END:VEVENT
END:VCALENDAR
"""

add(
    "31_komorebi_online_seminar_ics_attachment_iso2022jp.eml",
    "komorebi",
    "advertising",
    (),
    "Every item is in the body; the calendar attachment carries none and needs none.",
    sender_name="株式会社こもれび工房",
    sender_address="news@komorebi.example",
    to="yoshida@example.jp",
    subject="【オンライン】はじめての家具選び講座 1月23日（カレンダー登録用ファイル付き）",
    header_charset="iso-2022-jp",
    day=30,
    content=multipart(
        "mixed",
        "komorebi-mixed-0123",
        text(
            """\
吉田 様

家具を買う前に知っておきたい「木の種類」「塗装の違い」「サイズの測り方」を、
職人が画面越しにお話しするオンライン講座です。参加費は無料です。

　日時：2027年1月23日（土）10:00〜11:00
　視聴ページ：https://www.komorebi.example/live/0123

カレンダーに登録できるファイルを添付しました。

株式会社こもれび工房
〒460-0008 愛知県名古屋市中区栄3-15-8
TEL 052-000-1234
今後のご案内の配信停止は、下記アドレスへその旨をお送りください。
teishi@komorebi.example
""",
            "iso-2022-jp",
            "7bit",
        ),
        binary(_ICS.replace("\n", "\r\n").encode("ascii"), "text/calendar", "seminar.ics"),
    ),
)

add(
    "32_minato_shipped_incidental_english_name_utf8_qp.eml",
    "minato",
    "incidental",
    (),
    "A shipping notice with a small ad (O3 a): D1 only (D7), given as the English name.",
    sender_name="Minato Denshi",
    sender_address="order@minato.example",
    to="yoshida@example.jp",
    subject="ご注文の商品を発送しました（注文番号 MD-20261203-0457）",
    day=3,
    content=text(
        """\
吉田 様

ご注文いただいた商品を本日発送いたしました。

　注文番号：MD-20261203-0457
　商品：65W GaN充電器 ×1
　配送業者：やまと便　お問い合わせ番号 4410-2231-0987
　お届け予定：12月5日（土）

配送状況はこちらで確認できます。
https://shop.minato.example/order/MD-20261203-0457

＜お知らせ＞ 充電器と一緒に使えるUSB-Cケーブル、まとめ買いで20%OFF。
https://shop.minato.example/item/cable-set

Minato Denshi Co., Ltd.
""",
        "utf-8",
        "quoted-printable",
    ),
)

add(
    "33_minato_receipt_non_advertising_html_utf8_b64.eml",
    "minato",
    "non_advertising",
    (),
    "A receipt with no ad is no specified mail (S1): no display item is required.",
    sender_name="Minato Denshi",
    sender_address="order@minato.example",
    to="yoshida@example.jp",
    subject="領収書の発行について",
    day=4,
    content=text(
        """\
<html><body style="font-family:sans-serif;font-size:14px;">
<p>吉田 様</p>
<p>ご依頼いただいた領収書を発行しました。マイページの購入履歴からダウンロードできます。</p>
<table border="1" cellpadding="6" style="border-collapse:collapse;">
<tr><th>注文番号</th><td>MD-20261128-0213</td></tr>
<tr><th>金額</th><td>19,800円（税込）</td></tr>
<tr><th>宛名</th><td>吉田 様</td></tr>
</table>
<p><a href="https://shop.minato.example/mypage/orders">購入履歴を開く</a></p>
</body></html>
""",
        "utf-8",
        "base64",
        "html",
    ),
)

# ---------------------------------------------------------------------------
# Mails that break one or two display rules.
# ---------------------------------------------------------------------------

add(
    "34_ogiya_sake_class_statement_far_from_url_iso2022jp.eml",
    "ogiya",
    "advertising",
    ("D3",),
    "The only opt-out statement is at the top; the URL sits in a link list at the end with no"
    " statement beside it: not 'immediately before or after D2' (LAW.md D3).",
    sender_name="扇屋商店",
    sender_address="news@ogiya.example",
    to="yoshida@example.jp",
    subject="【扇屋商店】日本酒の会 2月の部 参加者募集",
    header_charset="iso-2022-jp",
    day=5,
    content=text(
        """\
吉田 様
（配信停止をご希望の方は、本メール末尾のリンクからどうぞ）

二月の「日本酒の会」は、燗酒と冬の肴がテーマです。
講師に、酒蔵で二十年燗づけを担当してきた方をお招きします。

　日時：2月6日（土）18:00〜20:00
　会費：5,500円（肴つき）
　定員：16名

温度を変えながら同じお酒を飲み比べると、香りも甘みもまるで別物になります。
お燗は難しそう、という方にこそ参加していただきたい会です。
お席に限りがありますので、お早めにお申し込みください。

扇屋商店
〒100-0013 東京都千代田区霞が関9-1-1
電話 03-1234-5678

■リンク
https://www.ogiya.example/sake-class/
https://www.ogiya.example/access/
https://www.ogiya.example/mail/stop
""",
        "iso-2022-jp",
        "7bit",
    ),
)

add(
    "35_ogiya_kuwashiku_wa_kochira_next_to_optout_sjis.eml",
    "ogiya",
    "advertising",
    ("D3",),
    "A bare 詳しくはこちら above the opt-out URL says nothing about refusing mail, and no"
    " statement is anywhere: the statement of LAW.md D3 is missing.",
    sender_name="扇屋商店",
    sender_address="news@ogiya.example",
    to="yoshida@example.jp",
    subject="甘酒と酒粕、はじめました",
    header_charset="iso-2022-jp",
    day=6,
    content=text(
        """\
吉田 様

この冬から、蔵元直送の酒粕と、米麹の甘酒の取り扱いをはじめました。
酒粕は粕汁や甘酒づくりに、甘酒はそのまま温めてどうぞ。

　酒粕（板粕）500g　　650円
　米麹の甘酒 500ml　　780円

詳しくはこちら
https://www.ogiya.example/sakekasu/

・・・・・・・・・・・・・・・・・・
詳しくはこちら
https://www.ogiya.example/mail/stop
扇屋商店　〒100-0013 東京都千代田区霞が関9-1-1　TEL 03-1234-5678
""",
        "shift_jis",
        "8bit",
    ),
)

add(
    "36_minato_mail_settings_link_only_html_utf8_qp.eml",
    "minato",
    "advertising",
    ("D3",),
    "The opt-out URL is a link labelled only メール設定 (mail settings); nothing says the"
    " recipient may refuse mail (LAW.md D3).",
    sender_name="株式会社みなと電子",
    sender_address="mag@minato.example",
    to="yoshida@example.jp",
    subject="スマートウォッチ新色入荷",
    day=7,
    content=text(
        """\
<html><body>
<table width="600" align="center" style="font-family:sans-serif;font-size:14px;">
<tr><td style="padding:16px;">
<p>人気のスマートウォッチ「MD-Watch 2」に、冬の新色ミッドナイトブルーが入荷しました。</p>
<p>睡眠の記録や心拍の計測はそのままに、バンドは柔らかいシリコン素材に変わりました。</p>
<p><a href="https://shop.minato.example/item/md-watch2">商品ページへ</a></p>
</td></tr>
<tr><td style="padding:16px;font-size:11px;color:#777;border-top:1px solid #ddd;">
<a href="https://shop.minato.example/unsubscribe">メール設定</a> |
<a href="https://shop.minato.example/privacy">プライバシーポリシー</a><br>
株式会社みなと電子　〒530-0001 大阪府大阪市北区梅田1-2-3<br>
お問い合わせ：06-6123-4567
</td></tr>
</table>
</body></html>
""",
        "utf-8",
        "quoted-printable",
        "html",
    ),
)

add(
    "37_ogiya_no_optout_at_all_eucjp.eml",
    "ogiya",
    "advertising",
    ("D2", "D3"),
    "No opt-out URL or address (LAW.md D2) and so no statement beside one (D3): both items"
    " of Art. 4 are absent.",
    sender_name="扇屋商店",
    sender_address="news@ogiya.example",
    to="yoshida@example.jp",
    subject="【扇屋商店】クラフトビール、入荷しました",
    header_charset="iso-2022-jp",
    day=8,
    content=text(
        """\
吉田 様

日本酒とワインのお店、扇屋商店に、クラフトビールの棚ができました。
まずは全国の小さな醸造所から八種類をそろえています。

　・柚子のホワイトエール（高知）　580円
　・黒糖スタウト（鹿児島）　　　　620円
　・IPA 霞が関ホップ（東京）　　　600円

冷蔵ケースで冷やしてありますので、お帰りの一本にもどうぞ。

扇屋商店
〒100-0013 東京都千代田区霞が関9-1-1
電話 03-1234-5678
""",
        "euc-jp",
        "8bit",
    ),
)

add(
    "38_hikari_tv_option_no_postal_address_utf8_b64.eml",
    "hikari",
    "advertising",
    ("D4",),
    "Name, opt-out with statement and a phone number, but no postal address and no page said"
    " to show it (LAW.md D4).",
    sender_name="ひかり通信",
    sender_address="info@mail.hikari-net.example",
    to="kimura@example.jp",
    subject="ひかりTV 冬休みは映画見放題プランがおトク",
    day=9,
    content=text(
        """\
木村 様

冬休みは、おうちで映画三昧はいかがですか。
「ひかりTV 見放題プラン」が、1月末までのお申し込みで2か月間 月額半額になります。

　通常 月額1,100円 → 2か月間 550円
　対象：新規にお申し込みいただいた方

お申し込み　https://www.hikari-net.example/tv/winter

◇配信停止をご希望の方は下記URLからお手続きください。
https://www.hikari-net.example/mail/settings
◇ひかり通信株式会社　お客さまセンター 0120-000-111
""",
        "utf-8",
        "base64",
    ),
)

add(
    "39_minato_noreply_only_no_contact_iso2022jp.eml",
    "minato",
    "advertising",
    ("D5",),
    "The only address shown is a send-only one that the mail says takes no replies; no phone,"
    " no enquiry address or URL (LAW.md D5).",
    sender_name="株式会社みなと電子",
    sender_address="no-reply@minato.example",
    to="yoshida@example.jp",
    subject="【みなと電子】レビュー投稿でポイントプレゼント",
    header_charset="iso-2022-jp",
    day=10,
    content=text(
        """\
吉田 様

先月お買い上げいただいた商品の使い心地はいかがですか。
商品レビューを書いていただくと、もれなく100ポイントをプレゼントしています。

レビューを書く：https://shop.minato.example/review

※このメールは送信専用アドレス（no-reply@minato.example）からお送りしています。
　ご返信いただいてもお答えできませんので、あらかじめご了承ください。

メール配信の停止をご希望の方は、以下のページで手続きできます。
https://shop.minato.example/unsubscribe

株式会社みなと電子
〒530-0001 大阪府大阪市北区梅田1-2-3
""",
        "iso-2022-jp",
        "7bit",
    ),
)

add(
    "40_ogiya_bare_company_url_sjis_b64.eml",
    "ogiya",
    "advertising",
    ("D4", "D5"),
    "Address and contact only behind a bare URL with no words saying they are there; LAW.md"
    " D4/D5 allow a linked page only when 'the mail says where'.",
    sender_name="扇屋商店",
    sender_address="news@ogiya.example",
    to="yoshida@example.jp",
    subject="梅酒の仕込み体験、予約受付中です",
    header_charset="shift_jis",
    day=11,
    content=text(
        """\
吉田 様

来年の初夏に向けて、梅酒の仕込み体験の予約を受け付けています。
青梅のへた取りから、氷砂糖と焼酎での漬け込みまで、瓶ひとつ分を仕込んでお持ち帰りいただけます。

　日程：2027年6月の土曜日（全4回）
　参加費：3,800円（梅・材料・保存瓶つき）
　予約：https://www.ogiya.example/umeshu/

◆配信停止はこちらから
https://www.ogiya.example/mail/stop

扇屋商店
https://www.ogiya.example/company/
""",
        "shift_jis",
        "base64",
    ),
)

add(
    "41_hikari_bare_top_page_url_no_contact_utf8_qp.eml",
    "hikari",
    "advertising",
    ("D5",),
    "No phone, enquiry address or enquiry page: only the bare top page URL, with no words"
    " saying enquiries are taken there (LAW.md D5).",
    sender_name="ひかり通信株式会社",
    sender_address="news@hikari-net.example",
    to="kimura@example.jp",
    subject="Wi-Fiルーター 無料交換キャンペーンのお知らせ",
    day=12,
    content=text(
        """\
木村 様

5年以上前のWi-Fiルーターをお使いのお客さまへ。
最新規格Wi-Fi 7対応ルーターへの交換が、いまなら無料です。
つながりにくい部屋がある、動画が止まる、といったお悩みが解消するかもしれません。

交換のお申し込み：https://www.hikari-net.example/router/exchange

配信停止をご希望の方は、こちらから設定してください。
https://www.hikari-net.example/mail/settings

ひかり通信株式会社
〒150-0002 東京都渋谷区渋谷2-3-4
https://www.hikari-net.example/
""",
        "utf-8",
        "quoted-printable",
    ),
)

add(
    "42_minato_address_white_on_white_html_utf8_qp.eml",
    "minato",
    "advertising",
    ("D4",),
    "The postal address is written in white on a white cell: no reader sees it, so it is not"
    " displayed (Art. 4: 映像面に正しく表示) and D4 is missing.",
    sender_name="株式会社みなと電子",
    sender_address="mag@minato.example",
    to="yoshida@example.jp",
    subject="在庫一掃セール 最大50%OFF",
    day=13,
    content=text(
        """\
<html><body style="margin:0;">
<table role="presentation" width="600" align="center" cellpadding="0" cellspacing="0"
 style="font-family:sans-serif;">
<tr><td style="background-color:#c62828;color:#ffffff;padding:20px;font-size:24px;
text-align:center;">在庫一掃セール 最大50%OFF</td></tr>
<tr><td style="padding:20px;font-size:14px;line-height:1.8;">
展示品・旧モデルを中心に、在庫限りの特別価格でご提供します。<br>
12月26日（土）10:00スタート、なくなり次第終了です。<br>
<a href="https://shop.minato.example/sale/clearance">セール会場へ</a>
</td></tr>
<tr><td style="padding:12px 20px;font-size:11px;color:#666666;">
配信停止をご希望の方は<a href="https://shop.minato.example/unsubscribe">こちら</a>から手続きできます。<br>
株式会社みなと電子　お問い合わせ：06-6123-4567
</td></tr>
<tr><td bgcolor="#ffffff" style="background-color:#ffffff;padding:0 20px 12px;">
<p style="color:#ffffff;font-size:11px;margin:0;">〒530-0001 大阪府大阪市北区梅田1-2-3</p>
</td></tr>
</table>
</body></html>
""",
        "utf-8",
        "quoted-printable",
        "html",
    ),
)

add(
    "43_ogiya_phone_font_size_zero_html_sjis_b64.eml",
    "ogiya",
    "advertising",
    ("D5",),
    "The only contact (the phone number) is set in font-size:0: not displayed, so D5 is"
    " missing; the other items are visible.",
    sender_name="扇屋商店",
    sender_address="news@ogiya.example",
    to="yoshida@example.jp",
    subject="【扇屋商店】ギフト包装 無料のご案内",
    header_charset="shift_jis",
    day=14,
    content=text(
        """\
<html>
<head><meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS"></head>
<body>
<div style="width:560px;margin:0 auto;font-size:14px;line-height:1.8;">
<p>吉田 様</p>
<p>年末年始の贈り物に、お酒はいかがですか。<br>
12月中は、のし紙とギフト包装を無料で承ります。<br>
桐箱入りの大吟醸や、ワインの2本セットもご用意しています。</p>
<p><a href="https://www.ogiya.example/gift/">ギフト商品一覧</a></p>
<hr>
<p style="font-size:12px;">配信停止をご希望の方は、次のページからお手続きください。<br>
<a href="https://www.ogiya.example/mail/stop">https://www.ogiya.example/mail/stop</a></p>
<p style="font-size:12px;">扇屋商店<br>
〒100-0013 東京都千代田区霞が関9-1-1<br>
<span style="font-size:0px;">お問い合わせ 03-1234-5678</span></p>
</div>
</body>
</html>
""",
        "shift_jis",
        "base64",
        "html",
    ),
)

_HIKARI_DENKI_TEXT = """\
木村 様

ひかり通信のインターネットをご利用中のお客さま限定で、
「ひかりでんき」とのセット割を始めました。毎月の電気代から300円を割り引きます。

お申し込み：https://www.hikari-net.example/denki/set

--------------------------------
配信停止はこちらから
https://www.hikari-net.example/mail/settings
ひかり通信株式会社
〒150-0002 東京都渋谷区渋谷2-3-4
お問い合わせ 0120-000-111
"""

add(
    "44_hikari_denki_optout_display_none_alternative_utf8_b64.eml",
    "hikari",
    "advertising",
    ("D2", "D3"),
    "The HTML alternative hides its opt-out block with a display:none class; a reader of the"
    " HTML view sees no opt-out URL (D2) nor statement (D3).",
    sender_name="ひかり通信",
    sender_address="info@mail.hikari-net.example",
    to="kimura@example.jp",
    subject="ネットとでんきのセット割 はじまりました",
    day=15,
    content=multipart(
        "alternative",
        "alt_hikari_denki",
        text(_HIKARI_DENKI_TEXT, "utf-8", "base64"),
        text(
            """\
<html><head>
<style>
 .unsub { display: none; }
 .foot { font-size: 12px; color: #666666; }
</style></head>
<body>
<p>木村 様</p>
<p>ひかり通信のインターネットをご利用中のお客さま限定で、<br>
「ひかりでんき」とのセット割を始めました。毎月の電気代から300円を割り引きます。</p>
<p><a href="https://www.hikari-net.example/denki/set">セット割を申し込む</a></p>
<div class="unsub">配信停止はこちらから<br>
<a href="https://www.hikari-net.example/mail/settings">https://www.hikari-net.example/mail/settings</a>
</div>
<p class="foot">ひかり通信株式会社<br>
〒150-0002 東京都渋谷区渋谷2-3-4<br>
お問い合わせ 0120-000-111</p>
</body></html>
""",
            "utf-8",
            "base64",
            "html",
        ),
    ),
)

add(
    "45_minato_name_off_screen_html_utf8_qp.eml",
    "minato",
    "advertising",
    ("D1",),
    "The company name is the only text of a block positioned at left:-9999px: off-screen, not"
    " displayed, so D1 is missing.",
    sender_name="MINATO SHOP",
    sender_address="mag@minato.example",
    to="yoshida@example.jp",
    subject="ゲーミングモニター 週末特価",
    day=16,
    content=text(
        """\
<html><body>
<div style="position:absolute;left:-9999px;top:-9999px;">株式会社みなと電子</div>
<div style="max-width:600px;margin:0 auto;font-family:sans-serif;">
<h2 style="color:#1a237e;">ゲーミングモニター 週末特価</h2>
<p>27インチ・165Hzのゲーミングモニターが、今週末に限り29,800円。<br>
応答速度1msで、動きの速いゲームもくっきり表示します。</p>
<p><a href="https://shop.minato.example/item/gm27">商品ページを見る</a></p>
<p style="font-size:11px;color:#777;">
配信停止をご希望の方は、こちらのページで手続きできます：
<a href="https://shop.minato.example/unsubscribe">https://shop.minato.example/unsubscribe</a><br>
〒530-0001 大阪府大阪市北区梅田1-2-3<br>
お問い合わせ：06-6123-4567</p>
</div>
</body></html>
""",
        "utf-8",
        "quoted-printable",
        "html",
    ),
)

add(
    "46_komorebi_name_only_in_logo_alt_html_utf8_b64.eml",
    "komorebi",
    "advertising",
    ("D1",),
    "The company name appears only as the alt text of the logo image, which a reader with"
    " images shown never sees: D1 is not displayed.",
    sender_name="KOMOREBI",
    sender_address="news@komorebi.example",
    to="yoshida@example.jp",
    subject="椅子の張り替え、承ります",
    day=17,
    content=text(
        """\
<html><body style="background:#f6f3ee;">
<table width="560" align="center" style="background:#ffffff;font-family:serif;">
<tr><td style="padding:24px;text-align:center;">
<img src="https://www.komorebi.example/img/logo.png" width="160" height="48"
 alt="株式会社こもれび工房">
</td></tr>
<tr><td style="padding:0 24px 16px;font-size:14px;line-height:1.9;">
長く使った椅子の座面、へたっていませんか。<br>
当工房では、他社製の椅子も含めて座面の張り替えを承っています。
布・革あわせて60種類の生地見本からお選びいただけます。
</td></tr>
<tr><td style="padding:0 24px 16px;">
<a href="https://www.komorebi.example/repair/chair">張り替えの料金とお申し込み</a></td></tr>
<tr><td style="padding:16px 24px;font-size:11px;color:#666;">
メール配信の停止をご希望の方は、下記アドレスまでご連絡ください。<br>
<a href="mailto:teishi@komorebi.example">teishi@komorebi.example</a><br>
〒460-0008 愛知県名古屋市中区栄3-15-8　TEL 052-000-1234
</td></tr>
</table>
</body></html>
""",
        "utf-8",
        "base64",
        "html",
    ),
)

add(
    "47_ogiya_address_only_in_attachment_iso2022jp.eml",
    "ogiya",
    "advertising",
    ("D4",),
    "The postal address is only in an attached text file; attachments never count as the"
    " display, and the body does not say where the address is (LAW.md D4).",
    sender_name="扇屋商店",
    sender_address="news@ogiya.example",
    to="yoshida@example.jp",
    subject="【扇屋商店】店舗移転のお知らせと記念セール",
    header_charset="iso-2022-jp",
    day=18,
    content=multipart(
        "mixed",
        "=_ogiya_iten",
        text(
            """\
吉田 様

扇屋商店は、二月から同じ通りの少し先に移転いたします。
売り場は今の倍の広さになり、試飲カウンターも新しくなります。

移転を記念して、一月末まで全品10%OFFのセールを行います。
新しいお店までの道順は、添付のファイルをご覧ください。

扇屋商店　電話 03-1234-5678

メール配信の停止をご希望の方は、こちらからお手続きください。
https://www.ogiya.example/mail/stop
""",
            "iso-2022-jp",
            "7bit",
        ),
        text(
            """\
扇屋商店 新店舗のご案内

〒100-0013 東京都千代田区霞が関9-1-1
地下鉄の駅A3出口から徒歩3分、郵便局の隣です。
営業時間 10:00〜20:00（日曜定休）
""",
            "iso-2022-jp",
            "7bit",
            filename="新店舗のご案内.txt",
        ),
    ),
)

add(
    "48_minato_optout_only_in_attached_html_utf8_qp.eml",
    "minato",
    "advertising",
    ("D2", "D3"),
    "The opt-out link and its statement are only in an attached HTML file, which is not the"
    " mail a reader sees: D2 and D3 are missing from the display.",
    sender_name="株式会社みなと電子",
    sender_address="mag@minato.example",
    to="yoshida@example.jp",
    subject="年賀状プリンター 早割のお知らせ",
    day=19,
    content=multipart(
        "mixed",
        "minato_mixed_nenga",
        text(
            """\
吉田 様

年賀状の準備はお済みですか。
写真もきれいに刷れるインクジェットプリンターを、12月15日まで早割価格でご提供します。

　MD-Print 5　通常 24,800円 → 早割 19,800円
　https://shop.minato.example/item/mdprint5

メール設定については添付ファイルをご覧ください。

株式会社みなと電子
〒530-0001 大阪府大阪市北区梅田1-2-3
お問い合わせ support@minato.example
""",
            "utf-8",
            "quoted-printable",
        ),
        text(
            """\
<html><body>
<p>メールマガジンの配信停止は、下記ページから手続きできます。</p>
<p><a href="https://shop.minato.example/unsubscribe">https://shop.minato.example/unsubscribe</a></p>
</body></html>
""",
            "utf-8",
            "quoted-printable",
            "html",
            filename="mail_settings.html",
        ),
    ),
)

add(
    "49_ogiya_footer_part_in_sjis_body_iso2022jp.eml",
    "ogiya",
    "advertising",
    ("D6",),
    "The body is ISO-2022-JP but the whole display footer is a second inline part in"
    " Shift_JIS: the items are not in the text's encoding (LAW.md D6).",
    sender_name="扇屋商店",
    sender_address="news@ogiya.example",
    to="yoshida@example.jp",
    subject="【扇屋商店】シャンパーニュ 年末特価",
    header_charset="iso-2022-jp",
    day=20,
    content=multipart(
        "mixed",
        "=_ogiya_footer_sjis",
        text(
            """\
吉田 様

年末のお祝いに、シャンパーニュを特別価格でご用意しました。

　・ノンヴィンテージ ブリュット　6,600円 → 5,500円
　・ロゼ ブリュット　　　　　　　8,800円 → 7,480円

ご注文：https://www.ogiya.example/champagne/
""",
            "iso-2022-jp",
            "7bit",
            inline=True,
        ),
        text(
            """\
――――――――――――――――――――――
■メール配信の停止をご希望の方は、下記URLよりお手続きください。
https://www.ogiya.example/mail/stop
■お問い合わせ：03-1234-5678
扇屋商店
〒100-0013 東京都千代田区霞が関9-1-1
――――――――――――――――――――――
""",
            "shift_jis",
            "8bit",
            inline=True,
        ),
    ),
)

add(
    "50_minato_footer_part_in_iso2022jp_body_utf8.eml",
    "minato",
    "advertising",
    ("D6",),
    "A UTF-8 body with the display footer appended by the ESP as a separate ISO-2022-JP"
    " part: not the same encoding as the text (LAW.md D6).",
    sender_name="株式会社みなと電子",
    sender_address="mag@minato.example",
    to="yoshida@example.jp",
    subject="電動歯ブラシ 替えブラシ定期便のご案内",
    day=21,
    content=multipart(
        "mixed",
        "esp-footer-7f3a",
        text(
            """\
吉田 様

替えブラシの交換、つい忘れていませんか。
「替えブラシ定期便」なら、3か月ごとに自動でお届けします。
定期便は通常価格から15%OFF、送料も無料です。

定期便の詳細：https://shop.minato.example/teiki/brush
""",
            "utf-8",
            "quoted-printable",
            inline=True,
        ),
        text(
            """\
----
配信停止をご希望の方は下記より手続きしてください。
https://shop.minato.example/unsubscribe
株式会社みなと電子
〒530-0001 大阪府大阪市北区梅田1-2-3
TEL 06-6123-4567
""",
            "iso-2022-jp",
            "7bit",
            inline=True,
        ),
    ),
)

add(
    "51_hikari_text_alternative_without_address_utf8_qp.eml",
    "hikari",
    "advertising",
    ("D4",),
    "The HTML alternative is complete but the text alternative has no postal address; a"
    " reader of the text view sees no D4.",
    sender_name="ひかり通信",
    sender_address="info@mail.hikari-net.example",
    to="kimura@example.jp",
    subject="スマホとのセット割、家族みんなで",
    day=22,
    content=multipart(
        "alternative",
        "alt-hikari-family",
        text(
            """\
木村 様

ひかりモバイルとのセット割なら、家族4人までスマホ代が毎月550円ずつおトクです。

くわしく見る：https://www.hikari-net.example/mobile/family

配信停止はこちらから手続きできます。
https://www.hikari-net.example/mail/settings
ひかり通信株式会社　お問い合わせ 0120-000-111
""",
            "utf-8",
            "quoted-printable",
        ),
        text(
            """\
<html><body style="font-family:sans-serif;">
<p>木村 様</p>
<p>ひかりモバイルとのセット割なら、家族4人までスマホ代が毎月550円ずつおトクです。</p>
<p><a href="https://www.hikari-net.example/mobile/family">くわしく見る</a></p>
<p style="font-size:12px;color:#666;">
配信停止は<a href="https://www.hikari-net.example/mail/settings">こちら</a>から手続きできます。<br>
ひかり通信株式会社<br>〒150-0002 東京都渋谷区渋谷2-3-4<br>お問い合わせ 0120-000-111</p>
</body></html>
""",
            "utf-8",
            "quoted-printable",
            "html",
        ),
    ),
)

add(
    "52_komorebi_html_alternative_without_phone_sjis.eml",
    "komorebi",
    "advertising",
    ("D5",),
    "The text alternative is complete; the HTML alternative drops the phone number and shows"
    " no other contact (the opt-out address is not an enquiry address): D5 in the HTML view.",
    sender_name="株式会社こもれび工房",
    sender_address="news@komorebi.example",
    to="yoshida@example.jp",
    subject="子ども用の学習机 受注はじめました",
    header_charset="iso-2022-jp",
    day=23,
    content=multipart(
        "alternative",
        "==komorebi_desk==",
        text(
            """\
吉田 様

春からの新生活に向けて、子ども用の学習机の受注を始めました。
天板の高さを3段階に変えられるので、小学校から高校まで長く使えます。

受注期間：1月31日まで（お届けは3月中旬）
https://www.komorebi.example/kids-desk

配信停止のご希望は、下記アドレスまでお送りください。
teishi@komorebi.example
株式会社こもれび工房
〒460-0008 愛知県名古屋市中区栄3-15-8
TEL 052-000-1234
""",
            "shift_jis",
            "8bit",
        ),
        text(
            """\
<html><head><meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS"></head>
<body>
<p>吉田 様</p>
<p>春からの新生活に向けて、子ども用の学習机の受注を始めました。<br>
天板の高さを3段階に変えられるので、小学校から高校まで長く使えます。</p>
<p>受注期間：1月31日まで（お届けは3月中旬）<br>
<a href="https://www.komorebi.example/kids-desk">学習机のページへ</a></p>
<p style="font-size:12px;">配信停止のご希望は、下記アドレスまでお送りください。<br>
teishi@komorebi.example<br>
株式会社こもれび工房<br>
〒460-0008 愛知県名古屋市中区栄3-15-8</p>
</body></html>
""",
            "shift_jis",
            "base64",
            "html",
        ),
    ),
)

add(
    "53_minato_text_alternative_without_name_utf8_b64.eml",
    "minato",
    "advertising",
    ("D1",),
    "The HTML alternative names the company; the generated text alternative lost the name:"
    " a reader of the text view sees no D1.",
    sender_name="MINATO SHOP",
    sender_address="mag@minato.example",
    to="yoshida@example.jp",
    subject="加湿器 売れ筋ランキング",
    day=24,
    content=multipart(
        "alternative",
        "alt_minato_kashitsu",
        text(
            """\
吉田 様

乾燥が気になる季節になりました。今週よく売れている加湿器をご紹介します。

1位 スチーム式 MD-H300 … 12,800円
2位 ハイブリッド式 MD-H500 … 19,800円
3位 超音波式 MD-H100 … 5,980円

ランキングを見る https://shop.minato.example/ranking/humidifier

配信停止をご希望の方はこちら https://shop.minato.example/unsubscribe
〒530-0001 大阪府大阪市北区梅田1-2-3
お問い合わせ support@minato.example
""",
            "utf-8",
            "base64",
        ),
        text(
            """\
<html><body style="font-family:sans-serif;">
<p>吉田 様</p>
<p>乾燥が気になる季節になりました。今週よく売れている加湿器をご紹介します。</p>
<ol>
<li>スチーム式 MD-H300 … 12,800円</li>
<li>ハイブリッド式 MD-H500 … 19,800円</li>
<li>超音波式 MD-H100 … 5,980円</li>
</ol>
<p><a href="https://shop.minato.example/ranking/humidifier">ランキングを見る</a></p>
<p style="font-size:11px;">配信停止をご希望の方は
<a href="https://shop.minato.example/unsubscribe">こちら</a><br>
株式会社みなと電子<br>〒530-0001 大阪府大阪市北区梅田1-2-3<br>
お問い合わせ <a href="mailto:support@minato.example">support@minato.example</a></p>
</body></html>
""",
            "utf-8",
            "base64",
            "html",
        ),
    ),
)

add(
    "54_hikari_bill_incidental_no_name_iso2022jp.eml",
    "hikari",
    "incidental",
    ("D1",),
    "A bill with an ad (O3 a) still needs the sender's name (LAW.md D7: D1 only); it signs"
    " only as 料金センター.",
    sender_name="",
    sender_address="billing@hikari-net.example",
    to="kimura@example.jp",
    subject="ご利用料金のお知らせ（2026年11月分）",
    header_charset="iso-2022-jp",
    day=25,
    content=text(
        """\
木村 様

2026年11月分のご利用料金をお知らせします。

　ご請求額　6,160円（税込）
　お支払方法　クレジットカード
　お支払日　12月27日

＜ちょっとおトクなお知らせ＞
いまならオプションの「セキュリティパック」が2か月無料。
https://www.hikari-net.example/option/security

料金センター
""",
        "iso-2022-jp",
        "7bit",
    ),
)

add(
    "55_ogiya_order_arrived_incidental_no_name_sjis.eml",
    "ogiya",
    "incidental",
    ("D1",),
    "An order-arrival notice with an ad, like the slides' 付随的 example, but without the"
    " shop's name: D7 still requires D1.",
    sender_name="",
    sender_address="order@ogiya.example",
    to="yoshida@example.jp",
    subject="ご注文の品が届きました",
    header_charset="iso-2022-jp",
    day=26,
    content=text(
        """\
吉田 様

お取り寄せのご注文をいただいていたワインが本日入荷しました。
ご都合のよいときに、店頭でお受け取りください。お取り置きは1月10日までです。

　ご注文品：ブルゴーニュ ピノ・ノワール 2022 ×2本

--
今月の入荷情報はこちらをご覧ください！
https://www.ogiya.example/arrivals/

店主
""",
        "shift_jis",
        "8bit",
    ),
)

add(
    "56_yamabiko_reply_optout_no_postal_address_eucjp.eml",
    "yamabiko",
    "advertising",
    ("D4",),
    "Opt-out by reply stated anywhere is fine (LAW.md D3), but the brewery's postal address"
    " is missing and no page is said to show it (D4).",
    sender_name="合同会社やまびこ酒造",
    sender_address="info@yamabiko.example",
    to="sato@example.co.jp",
    subject="蔵開きのお知らせ（2月11日）",
    header_charset="iso-2022-jp",
    day=27,
    content=text(
        """\
佐藤 様

毎年恒例の蔵開きを、今年は2月11日（祝）に行います。
しぼりたての新酒の試飲、酒粕の詰め放題、甘酒のふるまいをご用意しています。

　時間　10:00〜15:00
　入場　無料（試飲は500円のおちょこ代が必要です）

当日は駐車場が混み合いますので、電車でのお越しをおすすめします。

なお、このお知らせが不要な方は、このメールに返信してお知らせください。
次回から配信を止めさせていただきます。

合同会社やまびこ酒造
電話 0263-00-1234
info@yamabiko.example
""",
        "euc-jp",
        "8bit",
    ),
)

add(
    "57_komorebi_optout_address_labelled_change_utf8_8bit.eml",
    "komorebi",
    "advertising",
    ("D3",),
    "The opt-out address sits in the footer labelled メールアドレス変更; the only statement that"
    " mail can be stopped is at the top, far from it (LAW.md D3).",
    sender_name="株式会社こもれび工房",
    sender_address="news@komorebi.example",
    to="yoshida@example.jp",
    subject="端材で作る小物市、開きます",
    day=28,
    content=text(
        """\
吉田 様
（このメールマガジンは、いつでも配信を停止できます）

家具づくりで出た端材を使って、職人たちがまな板や鍋敷き、箸置きを作りました。
一点ものばかりの「小物市」を、ショールームで三日間だけ開きます。

　日時：12月26日（土）〜28日（月）10:00〜17:00
　場所：こもれび工房 ショールーム

どれも数が少ないため、お一人さま三点までとさせていただきます。
寒い時期ですので、あたたかくしてお越しください。

株式会社こもれび工房
〒460-0008 愛知県名古屋市中区栄3-15-8
TEL 052-000-1234
メールアドレス変更：teishi@komorebi.example
""",
        "utf-8",
        "8bit",
    ),
)

add(
    "58_ogiya_partial_address_prefecture_ward_only_utf8_b64.eml",
    "ogiya",
    "advertising",
    ("D4",),
    "Only 東京都千代田区 is given: a ward is no postal address (住所) at which the sender can"
    " be reached (LAW.md D4).",
    sender_name="扇屋商店",
    sender_address="news@ogiya.example",
    to="yoshida@example.jp",
    subject="ワインの量り売り、はじめました",
    day=29,
    content=text(
        """\
吉田 様

空き瓶をお持ちいただくと、樽から直接ワインを量り売りいたします。
赤・白・ロゼの三種類、100mlから承ります。

　赤（スペイン・テンプラニーリョ）100ml 220円
　白（チリ・ソーヴィニヨン・ブラン）100ml 200円
　ロゼ（フランス・ラングドック）100ml 240円

■配信停止をご希望の方は、下記よりお手続きください。
https://www.ogiya.example/mail/stop

扇屋商店（東京都千代田区）
電話 03-1234-5678
""",
        "utf-8",
        "base64",
    ),
)

add(
    "59_ogiya_no_name_signed_by_shop_owner_iso2022jp.eml",
    "ogiya",
    "advertising",
    ("D1",),
    "Signed only 店主より: the sender's name appears nowhere in the text (LAW.md D1).",
    sender_name="",
    sender_address="news@ogiya.example",
    to="yoshida@example.jp",
    subject="今年もありがとうございました",
    header_charset="iso-2022-jp",
    day=30,
    content=text(
        """\
吉田 様

今年も一年、当店をご贔屓にしていただき、ありがとうございました。
年内は十二月三十日の夕方六時まで営業しております。
年越しのお酒、お正月のお屠蘇用のお酒も、まだ少しご用意がございます。

来年も、おいしいお酒をご紹介できるよう努めてまいります。
どうぞよいお年をお迎えください。

店主より

配信停止をご希望の方は、こちらからどうぞ。
https://www.ogiya.example/mail/stop
〒100-0013 東京都千代田区霞が関9-1-1　電話 03-1234-5678
""",
        "iso-2022-jp",
        "7bit",
    ),
)

add(
    "60_minato_english_manage_preferences_ascii.eml",
    "minato",
    "advertising",
    ("D3",),
    "English: the opt-out URL is labelled 'Manage preferences'; the one sentence saying you"
    " can unsubscribe is at the top, far from the URL (LAW.md D3).",
    sender_name="Minato Denshi",
    sender_address="mag@minato.example",
    to="yoshida@example.jp",
    subject="New arrivals: mechanical keyboards",
    day=1,
    content=text(
        """\
You can unsubscribe from this newsletter at any time.

Hi Yoshida-san,

Three new mechanical keyboards arrived this week, including a
low-profile model with hot-swappable switches and a compact 65%
layout that fits next to a laptop.

  MD-K65 Low Profile ....... JPY 16,500
  MD-K75 Wireless .......... JPY 21,800
  MD-K100 Silent ........... JPY 13,200

See them all: https://shop.minato.example/keyboards

Minato Denshi Co., Ltd.
1-2-3 Umeda, Kita-ku, Osaka 530-0001, Japan
Phone +81-6-6123-4567

Manage preferences:
https://shop.minato.example/unsubscribe
""",
        "us-ascii",
        "7bit",
    ),
)

add(
    "61_minato_english_no_postal_address_html_utf8_qp.eml",
    "minato",
    "advertising",
    ("D4",),
    "English HTML with name, unsubscribe statement and support address, but no postal"
    " address nor a page said to show it (LAW.md D4).",
    sender_name="Minato Denshi",
    sender_address="mag@minato.example",
    to="yoshida@example.jp",
    subject="Last call: free shipping ends tonight",
    day=2,
    content=text(
        """\
<html><body style="font-family:Arial,sans-serif;">
<table width="600" align="center"><tr><td style="padding:20px;">
<h1 style="font-size:22px;">Free shipping ends tonight</h1>
<p>Order before 23:59 JST and we ship for free, no minimum order.</p>
<p><a href="https://shop.minato.example/" style="background:#222;color:#fff;
padding:10px 24px;text-decoration:none;">Shop now</a></p>
<hr>
<p style="font-size:11px;color:#888;">If you no longer wish to receive these emails,
<a href="https://shop.minato.example/unsubscribe">unsubscribe here</a>.<br>
Minato Denshi Co., Ltd. &middot; Questions: support@minato.example</p>
</td></tr></table>
</body></html>
""",
        "utf-8",
        "quoted-printable",
        "html",
    ),
)

add(
    "62_komorebi_no_address_no_contact_eucjp.eml",
    "komorebi",
    "advertising",
    ("D4", "D5"),
    "Name and the opt-out address with its statement only: no postal address (D4) and no"
    " phone, enquiry address or URL (D5); the opt-out address is not said to take enquiries.",
    sender_name="株式会社こもれび工房",
    sender_address="news@komorebi.example",
    to="yoshida@example.jp",
    subject="ひのきのまな板、再入荷しました",
    header_charset="iso-2022-jp",
    day=3,
    content=text(
        """\
吉田 様

秋に完売した、ひのきのまな板が再入荷しました。
ひのきは水はけがよく、包丁あたりもやわらかいので、毎日の料理が少し楽しくなります。

　小（30×20cm）　3,300円
　大（42×24cm）　5,500円

オンラインショップ　https://www.komorebi.example/shop/manaita

株式会社こもれび工房

配信停止をご希望の方は、下記のアドレスへメールでお知らせください。
teishi@komorebi.example
""",
        "euc-jp",
        "8bit",
    ),
)

add(
    "63_hikari_address_in_collapsed_block_html_utf8_b64.eml",
    "hikari",
    "advertising",
    ("D4",),
    "The postal address sits in a block clipped to nothing (max-height:0; overflow:hidden),"
    " the preheader trick of mail builders: not displayed, so D4 is missing.",
    sender_name="ひかり通信",
    sender_address="info@mail.hikari-net.example",
    to="kimura@example.jp",
    subject="光回線の速度、測ってみませんか",
    day=4,
    content=text(
        """\
<html><body style="margin:0;">
<div style="display:block;max-height:0;overflow:hidden;font-size:12px;">
ひかり通信株式会社　〒150-0002 東京都渋谷区渋谷2-3-4</div>
<table width="600" align="center" style="font-family:sans-serif;font-size:14px;">
<tr><td style="padding:20px;">
<p>おうちの回線速度、最後に測ったのはいつですか。<br>
新しい速度測定ツールで、ルーターから先の区間ごとに速度を確かめられるようになりました。
遅い場合は、プラン変更のご提案もいたします。</p>
<p><a href="https://www.hikari-net.example/speedtest/">速度を測る</a></p>
</td></tr>
<tr><td style="padding:12px 20px;font-size:11px;color:#666;">
配信停止をご希望の方は<a href="https://www.hikari-net.example/mail/settings">こちら</a>から。<br>
ひかり通信株式会社　お問い合わせ 0120-000-111
</td></tr>
</table>
</body></html>
""",
        "utf-8",
        "base64",
        "html",
    ),
)

add(
    "64_minato_footer_table_display_none_html_utf8_qp.eml",
    "minato",
    "advertising",
    ("D4", "D5"),
    "The footer table with the postal address and the enquiry number is display:none; the"
    " name and opt-out line are visible: D4 and D5 are not displayed.",
    sender_name="株式会社みなと電子",
    sender_address="mag@minato.example",
    to="yoshida@example.jp",
    subject="ワイヤレス充電スタンド 新発売",
    day=5,
    content=text(
        """\
<html><body>
<div style="max-width:600px;margin:0 auto;font-family:sans-serif;font-size:14px;">
<p>スマートフォンとイヤホンを同時に置いて充電できる、2台同時充電スタンドを発売しました。<br>
角度を変えられるので、充電しながら動画も見やすくなっています。</p>
<p><a href="https://shop.minato.example/item/qi-stand2">商品を見る（4,980円）</a></p>
<p style="font-size:11px;color:#777;">株式会社みなと電子<br>
配信停止をご希望の方は
<a href="https://shop.minato.example/unsubscribe">こちらから手続き</a>してください。</p>
<table style="display:none;font-size:11px;">
<tr><td>所在地</td><td>〒530-0001 大阪府大阪市北区梅田1-2-3</td></tr>
<tr><td>お問い合わせ</td><td>06-6123-4567</td></tr>
</table>
</div>
</body></html>
""",
        "utf-8",
        "quoted-printable",
        "html",
    ),
)

add(
    "65_hikari_faq_link_only_no_contact_iso2022jp.eml",
    "hikari",
    "advertising",
    ("D5",),
    "The only 'help' is a link to an FAQ page, which answers questions but takes no complaint"
    " or enquiry; no phone, enquiry address or enquiry page (LAW.md D5).",
    sender_name="ひかり通信株式会社",
    sender_address="news@hikari-net.example",
    to="kimura@example.jp",
    subject="メッシュWi-Fi レンタル開始",
    header_charset="iso-2022-jp",
    day=6,
    content=text(
        """\
木村 様

家の奥の部屋までWi-Fiを届けるメッシュWi-Fiの月額レンタルを始めました。
中継機2台のセットで、月額550円です。

レンタルのお申し込み　https://www.hikari-net.example/mesh/

よくあるご質問はこちら
https://www.hikari-net.example/faq/mesh

メール配信の停止はこちらから手続きできます。
https://www.hikari-net.example/mail/settings

ひかり通信株式会社
〒150-0002 東京都渋谷区渋谷2-3-4
""",
        "iso-2022-jp",
        "7bit",
    ),
)


# ---------------------------------------------------------------------------
# Added after the audit of issue 3: one mail per trick it found, labelled from
# LAW.md like the rest (66-69 break a rule, 70 is compliant).
# ---------------------------------------------------------------------------

add(
    "66_minato_url_as_anchor_text_statement_white_html_utf8_b64.eml",
    "minato",
    "advertising",
    ("D3",),
    "The opt-out link shows its own URL as its text, and the only opt-out statement above it"
    " is white on white: a reader sees a bare URL. Words inside a URL (/unsubscribe) state"
    " nothing (README, D3), so there is no statement next to the opt-out URL (D3).",
    sender_name="株式会社みなと電子",
    sender_address="mag@minato.example",
    to="yoshida@example.jp",
    subject="モバイルバッテリー 冬のまとめ買い割引",
    day=7,
    extra=LIST_UNSUB_MINATO,
    content=text(
        """\
<html><body style="background-color:#ffffff;">
<div style="max-width:600px;margin:0 auto;font-family:sans-serif;font-size:14px;">
<p>寒い季節はバッテリーの減りが早くなります。<br>
10000mAhのモバイルバッテリーを、2個以上のご購入で1個あたり500円引きにいたします。</p>
<p><a href="https://shop.minato.example/item/mb10000">商品ページへ</a></p>
<p><span style="color:#ffffff">配信停止をご希望の方は下記からお手続きください。</span><br>
<a href="https://shop.minato.example/unsubscribe">https://shop.minato.example/unsubscribe</a><br>
株式会社みなと電子　〒530-0001 大阪府大阪市北区梅田1-2-3<br>
お問い合わせ：06-6123-4567</p>
</div>
</body></html>
""",
        "utf-8",
        "base64",
        "html",
    ),
)

add(
    "67_minato_contact_url_as_anchor_text_alternative_iso2022jp_utf8_qp.eml",
    "minato",
    "advertising",
    ("D5",),
    "The text alternative labels the enquiry page (お問い合わせ窓口：URL, D5 by link); the HTML"
    " alternative shows the same URL as the anchor's own text with no words saying what is"
    " there. A URL alone does not say enquiries are taken there (LAW.md D5: 'then the mail"
    " says where'), and words inside the URL are not words of the mail: the HTML view lacks D5.",
    sender_name="株式会社みなと電子",
    sender_address="mag@minato.example",
    to="yoshida@example.jp",
    subject="USB-C ハブ 新色のご案内",
    header_charset="iso-2022-jp",
    day=8,
    content=multipart(
        "alternative",
        "----=_alt_minato_hub",
        text(
            """\
吉田 様

ご好評のUSB-C ハブ（7ポート）に、新色のシルバーとネイビーが加わりました。
価格は据え置きの5,980円です。
https://shop.minato.example/item/hub7

--
メール配信の停止をご希望の方は、次のURLからお手続きください。
https://shop.minato.example/unsubscribe
株式会社みなと電子
〒530-0001 大阪府大阪市北区梅田1-2-3
お問い合わせ窓口：https://www.minato.example/company/contact/
""",
            "iso-2022-jp",
            "7bit",
        ),
        text(
            """\
<html><body>
<div style="max-width:600px;margin:0 auto;font-family:sans-serif;font-size:14px;">
<p>吉田 様</p>
<p>ご好評のUSB-C ハブ（7ポート）に、新色のシルバーとネイビーが加わりました。<br>
価格は据え置きの5,980円です。</p>
<p><a href="https://shop.minato.example/item/hub7">新色を見る</a></p>
<p style="font-size:12px;color:#555555;">
メール配信の停止をご希望の方は、次のURLからお手続きください。<br>
<a href="https://shop.minato.example/unsubscribe">https://shop.minato.example/unsubscribe</a><br>
株式会社みなと電子<br>
〒530-0001 大阪府大阪市北区梅田1-2-3<br>
<a href="https://www.minato.example/company/contact/">https://www.minato.example/company/contact/</a>
</p>
</div>
</body></html>
""",
            "utf-8",
            "quoted-printable",
            "html",
        ),
    ),
)


add(
    "68_hikari_members_cannot_opt_out_above_url_sjis_qp.eml",
    "hikari",
    "advertising",
    ("D3",),
    "Right above the opt-out URL the mail says 「本メールは会員向けのため、配信停止はできません」."
    " LAW.md D3 asks for a statement that the recipient may opt out; one that says they cannot"
    " is the opposite, so no D3 statement is shown next to the URL (D2 is there).",
    sender_name="ひかり通信",
    sender_address="members@hikari-net.example",
    to="kimura@example.jp",
    subject="【会員さま限定】光回線 乗り換えキャッシュバック増額",
    header_charset="shift_jis",
    day=9,
    content=text(
        """\
木村 様

ひかり通信 会員さま限定のご案内です。
ご家族・ご友人のご紹介で光回線にお乗り換えいただくと、
キャッシュバックを通常の10,000円から15,000円に増額いたします。

お申し込み期限：2027年1月31日
ご紹介の手続き：https://www.hikari-net.example/referral/

――――――――――――――――――――
本メールは会員向けのため、配信停止はできません。
https://www.hikari-net.example/mail/settings
ひかり通信株式会社
〒150-0002 東京都渋谷区渋谷2-3-4
お問い合わせ：0120-000-111
――――――――――――――――――――
""",
        "shift_jis",
        "quoted-printable",
    ),
)


add(
    "69_minato_statement_points_to_the_end_under_sale_url_eucjp.eml",
    "minato",
    "advertising",
    ("D3",),
    "「配信停止をご希望の方は、末尾のリンクからどうぞ」 stands right under the sale URL and says"
    " its link is at the end; the opt-out URL at the end stands alone, eight lines further"
    " down. The statement is not immediately before or after the opt-out URL (LAW.md D3), and"
    " the sale URL it happens to touch is not the one it speaks of.",
    sender_name="株式会社みなと電子",
    sender_address="mag@minato.example",
    to="yoshida@example.jp",
    subject="【みなと電子】冬のセール 本日スタート",
    header_charset="iso-2022-jp",
    day=10,
    content=text(
        """\
吉田 様

株式会社みなと電子の冬のセールが本日から始まりました。
セール会場：https://shop.minato.example/sale
配信停止をご希望の方は、末尾のリンクからどうぞ。
・商品1　USB-C ハブ 7ポート　4,980円
・商品2　ワイヤレス充電スタンド　3,980円
・商品3　モバイルバッテリー 10000mAh　2,980円
・商品4　ノイズキャンセリングイヤホン　9,800円
・商品5　スマートウォッチ　12,800円
・商品6　Bluetooth スピーカー　5,480円
・商品7　充電ケーブル 3本セット　1,280円
https://shop.minato.example/unsubscribe

株式会社みなと電子　〒530-0001 大阪府大阪市北区梅田1-2-3
お問い合わせ：06-6123-4567
""",
        "euc-jp",
        "8bit",
    ),
)

add(
    "70_minato_optout_anchor_on_campaign_link_html_utf8_qp.eml",
    "minato",
    "advertising",
    ("D3",),
    "The anchor 「配信停止はこちら」 links to the campaign page, and the sender's opt-out URL"
    " (its profile's optout_url) stands at the bottom with no words next to it. D3 must be"
    " immediately before or after the URL that takes opt-out requests (LAW.md D2, D3); a"
    " statement on another link is not next to it.",
    sender_name="株式会社みなと電子",
    sender_address="mag@minato.example",
    to="yoshida@example.jp",
    subject="新生活応援キャンペーンのお知らせ",
    day=11,
    content=text(
        """\
<html><body>
<table width="600" align="center" style="font-family:sans-serif;font-size:14px;">
<tr><td style="padding:20px;">
<p>新生活を始める方に、充電器とケーブルのセットを特別価格でご用意しました。</p>
<p><a href="https://shop.minato.example/campaign/spring">キャンペーン会場へ</a></p>
</td></tr>
<tr><td style="padding:12px 20px;font-size:11px;color:#666666;">
<a href="https://shop.minato.example/campaign/spring?from=footer">配信停止はこちら</a><br>
株式会社みなと電子　〒530-0001 大阪府大阪市北区梅田1-2-3<br>
お問い合わせ：06-6123-4567
</td></tr>
<tr><td style="padding:24px 20px 12px 20px;font-size:11px;color:#666666;">
https://shop.minato.example/unsubscribe
</td></tr>
</table>
</body></html>
""",
        "utf-8",
        "quoted-printable",
        "html",
    ),
)


add(
    "71_minato_footer_after_closing_html_sjis_b64.eml",
    "minato",
    "advertising",
    (),
    "The footer follows </html>, as some templating systems append it. Browsers and mail"
    " clients parse HTML as HTML5 does and show it after the body's content, so the reader"
    " sees the statement on the opt-out link (D2, D3), name, address and phone (D1, D4, D5).",
    sender_name="株式会社みなと電子",
    sender_address="mag@minato.example",
    to="yoshida@example.jp",
    subject="冬のセール開催中です",
    header_charset="shift_jis",
    day=12,
    content=text(
        """\
<html><head><title>冬のセール</title></head>
<body style="font-family:sans-serif;font-size:14px;">
<p>冬のセール開催中です。<br>
イヤホン、充電器、ケーブルなど300点以上を最大30%オフでご用意しました。</p>
<p><a href="https://shop.minato.example/sale">セール会場へ</a></p>
</body></html>
<p style="font-size:12px;color:#555555;">配信停止をご希望の方は\
<a href="https://shop.minato.example/unsubscribe">こちら</a>からお手続きください。<br>
株式会社みなと電子 〒530-0001 大阪府大阪市北区梅田1-2-3 06-6123-4567</p>
""",
        "shift_jis",
        "base64",
        "html",
    ),
)


def toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def labels_toml() -> str:
    lines = [
        "# The display corpus: which display rules (LAW.md D1-D6) each mail MUST yield.",
        "# Written by make_corpus.py (edit the mail and its label there, then run it).",
        "# category: advertising | incidental | non_advertising, passed to the policy as the",
        "# classification, so that this set measures the display rules only.",
        "# expected: the exact set of rule ids; [] means compliant, no finding at all.",
        "",
        SENDERS,
    ]
    for mail in MAILS:
        expected = ", ".join(toml_string(r) for r in mail.expected)
        lines += [
            "[[mail]]",
            f"file = {toml_string(mail.file)}",
            f"sender = {toml_string(mail.sender)}",
            f"category = {toml_string(mail.category)}",
            f"expected = [{expected}]",
            f"why = {toml_string(mail.why)}",
            "",
        ]
    return "\n".join(lines)


def main() -> None:
    for old in HERE.glob("*.eml"):
        old.unlink()
    for mail in MAILS:
        (HERE / mail.file).write_bytes(mail.raw)
    (HERE / "labels.toml").write_text(labels_toml(), encoding="utf-8")
    compliant = sum(1 for m in MAILS if not m.expected)
    print(f"wrote {len(MAILS)} mails ({compliant} compliant) and labels.toml to {HERE}")


if __name__ == "__main__":
    main()
