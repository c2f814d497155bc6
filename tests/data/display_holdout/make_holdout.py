"""Write the held-out display set: 24 .eml files and labels.toml.

Run from anywhere: ``python tests/data/display_holdout/make_holdout.py``.
The output is deterministic (fixed dates, Message-IDs and boundaries), so
running it again reproduces the committed files byte for byte.

Each mail's label was decided from LAW.md (D1-D7, O3), the ministry's slides
(表示義務, 表示の具体例) and the README's "Display items (D1-D7)" section,
without reading policies/display.py or the existing display corpus. Where the
README's documented rule and the law seem to disagree, the label follows the
law and its ``why`` says so. See README.md in this folder.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent
MIME_PY = HERE.parent / "display" / "mime.py"


def _load_mime() -> ModuleType:
    """Import tests/data/display/mime.py by path (tests/data is not a package)."""
    spec = importlib.util.spec_from_file_location("display_corpus_mime", MIME_PY)
    if spec is None or spec.loader is None:
        raise ImportError(MIME_PY)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


mime = _load_mime()

# The sender world of tests/data/display/labels.toml, read from it (one source of truth).
_MAIN_LABELS = (Path(__file__).resolve().parent.parent / "display" / "labels.toml").read_text(
    "utf-8"
)
SENDERS = (
    _MAIN_LABELS[_MAIN_LABELS.index("[senders.ogiya]") : _MAIN_LABELS.index("[[mail]]")].rstrip()
    + "\n"
)

HEADER = """\
# The held-out display set: which display rules (LAW.md D1-D6) each mail MUST yield.
# Written by make_holdout.py (edit the mail and its label there, then run it).
# Written independently of policies/display.py, policies/optout_lexicon.toml and
# the corpus in tests/data/display/: see README.md in this folder.
# category: advertising | incidental | non_advertising, passed to the policy as the
# classification, so that this set measures the display rules only.
# expected: the exact set of rule ids; [] means compliant, no finding at all.
# The [senders.*] tables are copied from tests/data/display/labels.toml.

"""


@dataclass(frozen=True)
class Mail:
    file: str
    sender: str
    category: str
    expected: tuple[str, ...]
    why: str
    from_name: str
    from_addr: str
    subject: str
    charset: str  # for the RFC 2047 words in From and Subject
    content: object  # a mime.Part
    date: str


def pdf(title: str, lines: list[str]) -> bytes:
    """A small, valid, deterministic one-page PDF with ASCII text."""
    text_ops = ["BT", "/F1 12 Tf", "72 760 Td", "16 TL"]
    for line in [title, *lines]:
        safe = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        text_ops.append(f"({safe}) Tj T*")
    text_ops.append("ET")
    stream = "\n".join(text_ops).encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n".encode()
    out += f"startxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


# --------------------------------------------------------------------------
# Compliant mails (expected = [])
# --------------------------------------------------------------------------

H01_TEXT = """\
吉田 様

いつも扇屋商店をご利用いただきありがとうございます。
朝晩すっかり冷えてまいりました。
今年も「秋の燗酒フェア」を店頭とオンラインショップで開催します。

◇期間　10月1日（水）〜10月31日（金）
◇内容　燗向きの純米酒を20種、試飲付きでご用意
◇特典　3本以上お買い上げの方に、錫のちろりをプレゼント

オンラインショップはこちら
https://www.ogiya.example/shop/kanzake/

お近くにお越しの際は、ぜひお立ち寄りください。

＊＊＊＊＊＊＊＊＊＊＊＊＊＊＊＊＊＊＊＊
メルマガの受け取りをやめたい方はこちら
https://www.ogiya.example/mail/stop

扇屋商店
本社：〒100-0013 東京都千代田区霞が関9-1-1
お客様窓口：03-1234-5678（10時〜18時、日祝休み）
＊＊＊＊＊＊＊＊＊＊＊＊＊＊＊＊＊＊＊＊
"""

# Shift_JIS mobile style: half-width kana and punctuation, full-width digits,
# U+2212 where a user typed a full-width hyphen (what 0x817C decodes to).
H02_TEXT = """\
★ｽﾏﾎｾｯﾄ割★
光回線とｽﾏﾎをまとめると
月額最大1,100円おトク!

▼お申込みはｺﾁﾗ
https://www.hikari-net.example/campaign/set/

受付は11/30まで｡
お早めにどうぞ♪

―――――
▼配信設定の変更･停止
https://www.hikari-net.example/mail/settings
―――――
ひかり通信(株)
東京都渋谷区渋谷２−３−４
ｶｽﾀﾏｰｾﾝﾀｰ(ﾌﾘｰﾀﾞｲﾔﾙ)
０１２０−０００−１１１
"""

H03_TEXT = """\
Minato Denshi Spring Sale
最大40%OFF — 3月31日まで

ワイヤレスイヤホン、モバイルバッテリーほか人気アイテムがお買い得。
Shop now: https://shop.minato.example/sale/spring

----------------------------------------
You are receiving this email because you signed up at shop.minato.example.
メール配信の停止 / Manage your email preferences:
https://shop.minato.example/unsubscribe
----------------------------------------
Minato Denshi Co.,Ltd.
1-2-3 Umeda, Kita-ku, Osaka 530-0001, Japan
Contact us: support@minato.example
"""

H03_HTML = """\
<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Spring Sale</title></head>
<body style="margin:0;padding:0;background:#f4f4f4;">
<table width="100%" cellpadding="0" cellspacing="0" border="0" bgcolor="#f4f4f4">
<tr><td align="center">
<table width="600" cellpadding="0" cellspacing="0" border="0" bgcolor="#ffffff">
<tr><td style="padding:24px;font-family:Arial,sans-serif;color:#222222;">
<h1 style="font-size:28px;color:#d6336c;margin:0 0 12px;">🌸 Spring Sale 🌸</h1>
<p style="font-size:16px;">最大<strong>40%OFF</strong> — 3月31日まで</p>
<p>ワイヤレスイヤホン、モバイルバッテリーほか人気アイテムがお買い得。</p>
<table cellpadding="0" cellspacing="0" border="0"><tr>
<td bgcolor="#d6336c" style="border-radius:4px;padding:12px 24px;">
<a href="https://shop.minato.example/sale/spring" style="color:#ffffff;text-decoration:none;\
font-weight:bold;">Shop now</a>
</td></tr></table>
</td></tr>
<tr><td style="padding:16px 24px;font-family:Arial,sans-serif;font-size:12px;color:#666666;\
background:#eeeeee;">
<p>You are receiving this email because you signed up at shop.minato.example.<br>
メール配信の停止はこちらから:
<a href="https://shop.minato.example/unsubscribe" style="color:#666666;">Manage your email \
preferences</a></p>
<p>Minato Denshi Co.,Ltd.<br>
1-2-3 Umeda, Kita-ku, Osaka 530-0001, Japan<br>
Contact us: <a href="mailto:support@minato.example" style="color:#666666;">\
support@minato.example</a></p>
</td></tr>
</table>
</td></tr></table>
</body></html>
"""

H04_TEXT = """\
こもれび工房 メールニュース　2025年11月号

こんにちは、こもれび工房です。
冬の木工教室の受講生を募集しています。

■カッティングボード作り（全1回）
　12月6日（土）13:00〜16:00　受講料 4,800円（材料費込み）
■スツール作り（全3回）
　1月10日・17日・24日（土）10:00〜15:00　受講料 18,000円

お申し込みは工房ウェブサイトから
https://www.komorebi.example/class/winter/

・・・・・・・・・・・・・・・・・・・・・・・・
今後メールの受信を希望されない方は、
teishi@komorebi.example まで空メールをお送りください。
・・・・・・・・・・・・・・・・・・・・・・・・
株式会社こもれび工房
所在地　名古屋市中区栄三丁目15番8号
電話　052-000-1234（火曜定休）
"""

H05_TEXT = """\
お得意様各位

松本はもう初雪が降りました。
やまびこ酒造の今季最初の新酒「しぼりたて生原酒」が仕上がりました。

　720ml　1,650円（税込）
　1.8L 　3,300円（税込）

ご注文はこのメールへのご返信、またはお電話で承ります。
数に限りがございますので、お早めにどうぞ。

※今後このようなご案内がご不要の方は、お手数ですが本メールに
　「停止」とだけ書いてご返信ください。以後お送りいたしません。

――
合同会社やまびこ酒造
〒390-0811 長野県松本市中央4-5-6
TEL 0263-00-1234 ／ info@yamabiko.example
"""

H06_TEXT = """\
吉田 様

11月22日（土）に開く「蔵元と語る利き酒会」のお席が、残り8席となりました。
当日は新潟・長野の三つの蔵から蔵元をお招きし、
新酒と熟成酒を飲み比べていただきます。

会費 5,500円（おつまみ付き）
お申込み https://www.ogiya.example/event/kikizake/

--------------------------------------------------
ご案内が不要になりましたら、下記ページから配信を止められます。
https://www.ogiya.example/mail/stop
各種お問い合わせ：03-1234-5678
扇屋商店　〒100-0013 東京都千代田区霞が関9-1-1
--------------------------------------------------
"""

H06_HTML = """\
<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head>
<body>
<p>吉田 様</p>
<p>11月22日（土）に開く<b>「蔵元と語る利き酒会」</b>のお席が、残り8席となりました。<br>
当日は新潟・長野の三つの蔵から蔵元をお招きし、新酒と熟成酒を飲み比べていただきます。</p>
<table border="1" cellpadding="6" style="border-collapse:collapse;">
<tr><th>会費</th><td>5,500円（おつまみ付き）</td></tr>
<tr><th>お申込み</th><td><a href="https://www.ogiya.example/event/kikizake/">申込みフォーム</a></td></tr>
</table>
<hr>
<p style="font-size:12px;">ご案内が不要になりましたら、\
<a href="https://www.ogiya.example/mail/stop">こちらのページ</a>から配信を止められます。<br>
各種お問い合わせ：03-1234-5678<br>
扇屋商店　〒100-0013 東京都千代田区霞が関9-1-1</p>
</body></html>
"""

H07_TEXT = """\
ひかり通信をご利用のお客様

2025年10月分のご利用料金が確定しましたのでお知らせします。

　ご請求額　　　　　5,955円（税込）
　　基本使用料　　　5,414円
　　消費税等　　　　　541円
　お引き落とし日　　11月27日

明細はマイページでご確認いただけます。
https://www.hikari-net.example/mypage/

☆☆ お知らせ ☆☆
光テレビが2か月無料！ 12月末までのお申込みで
https://www.hikari-net.example/campaign/tv/

ひかり通信株式会社
"""

H08_TEXT = """\
ご担当者様

平素より格別のお引き立てを賜り、誠にありがとうございます。
株式会社みなと電子 法人営業部でございます。

このたび、2026年春の新製品カタログができあがりましたので、
PDFにてお送りいたします（添付ファイルをご覧ください）。
業務用ハンディターミナル「MD-700」シリーズを中心に、
前年比で約30%の省電力化を実現した製品を掲載しております。

お見積りのご依頼は、担当営業または下記窓口までお気軽にどうぞ。

====================================
株式会社みなと電子　法人営業部
本社：〒530-0001 大阪府大阪市北区梅田1-2-3
電話：06-6123-4567（平日9:00-17:30）
メール：support@minato.example

弊社からのご案内メールの配信解除をご希望の場合は、
以下のURLよりお手続きください。
https://shop.minato.example/unsubscribe
====================================
"""

H09_TEXT = """\
扇屋商店 オンラインショップ 会員の皆さま

毎年ご好評いただいている「新春福袋」の予約受付を開始しました。

【A】一升瓶3本セット　10,000円
【B】四合瓶5本セット　 8,000円
【C】おつまみ詰め合わせ付き　12,000円

ご予約はこちら
https://www.ogiya.example/shop/fukubukuro/

□■ メールの配信について ■□
配信停止・アドレス変更は次のページで承ります。
https://www.ogiya.example/mail/stop

□■ 扇屋商店について ■□
所在地・お問い合わせ窓口は会社案内ページをご覧ください。
https://www.ogiya.example/company/
"""

H10_HTML = """\
<html><head><meta charset="utf-8"></head>
<body style="font-family:sans-serif;color:#333333;">
<h2>🌿 新作入荷のお知らせ 🌿</h2>
<p>山桜の一枚板から削り出したカッティングボードが入荷しました。<br>
数量限定 12枚、1枚 6,600円（税込）です。</p>
<p><a href="https://www.komorebi.example/shop/board-yamazakura/" style="display:inline-block;\
padding:10px 20px;background:#4a7c59;color:#ffffff;text-decoration:none;border-radius:3px;">\
商品ページを見る</a></p>
<hr>
<p style="font-size:12px;color:#666666;">
📮 配信停止をご希望の方は、<a href="mailto:teishi@komorebi.example?subject=unsubscribe">\
teishi@komorebi.example</a> 宛に空メールをお送りください。<br>
株式会社こもれび工房　〒460-0008 愛知県名古屋市中区栄3-15-8<br>
☎ 052-000-1234
</p>
</body></html>
"""

H11_TEXT = """\
ひかり通信 会員各位

ネットの安心、まだ後回しにしていませんか？
「ひかりセキュリティ」は、ご家族5台まで月額330円。
今なら初月無料でお試しいただけます。

▶ お申し込み：https://www.hikari-net.example/security/

━━━ お知らせメールを止めたいときは ━━━
https://www.hikari-net.example/mail/settings
（「メール配信設定」から解除できます）

ひかり通信株式会社
〒150-0002 東京都渋谷区渋谷2-3-4
お問い合わせ：ひかり通信カスタマーセンター 0120-000-111（9:00〜18:00）
"""

# --------------------------------------------------------------------------
# Violating mails
# --------------------------------------------------------------------------

H12_TEXT = """\
扇屋商店 メールマガジン　第128号
※メルマガの配信停止をご希望の方は、本メール末尾のリンクからお手続きください。

こんにちは、扇屋商店の店主です。
今月は、ひやおろしの飲み比べセットをご紹介します。

・山田錦の純米吟醸（兵庫）
・美山錦の純米（長野）
・五百万石の特別本醸造（新潟）

三本とも、夏を越してまろやかになった秋だけの味わいです。
300mlの小瓶セットで 2,980円（税込）。

ご購入はこちらから
https://www.ogiya.example/shop/hiyaoroshi/

季節の肴のレシピも店のブログで紹介しています。
https://www.ogiya.example/blog/

それでは、また来月。

――――――――――――――――――――
扇屋商店
〒100-0013 東京都千代田区霞が関9-1-1
TEL 03-1234-5678
https://www.ogiya.example/mail/stop
――――――――――――――――――――
"""

H13_HTML = """\
<!DOCTYPE html>
<html><head><meta charset="utf-8"></head>
<body style="margin:0;background:#ffffff;">
<table width="600" align="center" cellpadding="0" cellspacing="0" border="0">
<tr><td style="padding:20px;font-family:sans-serif;">
<h2 style="color:#0057b8;">ひかり通信 10ギガプラン 提供エリア拡大！</h2>
<p>渋谷区・目黒区・世田谷区の一部で、10ギガプランがご利用いただけるようになりました。<br>
いまなら工事費実質0円。</p>
<p><a href="https://www.hikari-net.example/10g/" style="display:inline-block;padding:10px 24px;\
background:#0057b8;color:#ffffff;text-decoration:none;">エリアを確認する</a></p>
</td></tr>
<tr><td style="padding:20px;background:#f0f0f0;font-family:sans-serif;font-size:12px;">
<table width="100%" cellpadding="0" cellspacing="0" border="0"><tr>
<td>メール配信について<br>https://www.hikari-net.example/mail/settings</td>
<td align="right"><a href="https://www.hikari-net.example/mail/settings" \
style="display:inline-block;padding:6px 14px;border:1px solid #999999;color:#333333;\
text-decoration:none;">詳細</a></td>
</tr></table>
<p>ひかり通信株式会社<br>
〒150-0002 東京都渋谷区渋谷2-3-4<br>
お問い合わせ 0120-000-111</p>
</td></tr>
</table>
</body></html>
"""

H14_TEXT = """\
みなと電子オンラインショップをご利用の皆さま

週末限定のタイムセールを開催しています！

◆ USB-C充電器 65W …… 3,980円 → 2,480円
◆ ノイズキャンセリングヘッドホン …… 19,800円 → 14,800円
◆ スマートプラグ 2個セット …… 2,980円 → 1,980円

セール会場：https://shop.minato.example/timesale/
※日曜23:59まで。在庫がなくなり次第終了します。

------------------------------------------------------------
配信停止をご希望の場合は、こちらから手続きできます。
https://shop.minato.example/unsubscribe
ご不明な点はサポート窓口へ：support@minato.example
運営：株式会社みなと電子
------------------------------------------------------------
"""

H15_TEXT = """\
こもれび工房より　年末の営業とギャラリー展示のお知らせ

いつもありがとうございます。
12月13日から25日まで、工房ギャラリーで「くらしの木の器展」を開きます。
作家6名による椀・皿・カトラリーなど約200点を展示・販売します。

会場の様子はウェブサイトでもご覧いただけます。
https://www.komorebi.example/gallery/2025-winter/

年末は12月28日まで、年始は1月5日から営業いたします。

＊メールマガジンの解除は、teishi@komorebi.example 宛に
　件名「解除」でメールをお送りください。

株式会社こもれび工房
〒460-0008 愛知県名古屋市中区栄3-15-8
"""

H16_TEXT = """\
◆蔵開きのお知らせ◆
3/8(土)･9(日)10時〜16時
しぼりたて試飲･甘酒ふるまい有

ご予約不要､どなたでも
お気軽にどうぞ!

蔵元所在地
長野県松本市中央4-5-6

お問合せ
0263-00-1234

※配信停止はこのﾒｰﾙに
｢停止｣と返信してください

蔵元ｽﾀｯﾌ一同
"""

H17_HTML = """\
<html><head><meta charset="utf-8"></head>
<body bgcolor="#ffffff" style="background-color:#ffffff;">
<table width="100%" cellpadding="0" cellspacing="0" border="0" bgcolor="#ffffff">
<tr><td style="padding:16px;font-family:'Hiragino Sans',Meiryo,sans-serif;">
<h1 style="font-size:22px;">🍶 冬季限定 にごり酒 入荷 🍶</h1>
<p>毎年この季節だけの「活性にごり」が届きました。<br>
シュワっとした口当たりをお楽しみください。</p>
<p><a href="https://www.ogiya.example/shop/nigori/">ご購入はこちら</a></p>
<table width="100%" cellpadding="8" cellspacing="0" border="0" \
style="border-top:1px solid #cccccc;">
<tr><td style="font-size:12px;color:#555555;">
配信停止のお手続き：<a href="https://www.ogiya.example/mail/stop">\
https://www.ogiya.example/mail/stop</a><br>
扇屋商店　お客様窓口 03-1234-5678
</td></tr>
<tr><td style="font-size:12px;color:#ffffff;">〒100-0013 東京都千代田区霞が関9-1-1</td></tr>
</table>
</td></tr></table>
</body></html>
"""

H18_HTML = """\
<html><head><meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS"></head>
<body>
<table width="600" cellpadding="0" cellspacing="0" border="0" align="center">
<tr><td style="padding:20px;">
<p style="font-size:18px;font-weight:bold;">【ひかり通信】ご家族みんなでおトクに！\
ファミリー割スタート</p>
<p>ご家族で2回線以上ご契約いただくと、毎月の料金から1回線あたり550円を割り引きます。</p>
<p><a href="https://www.hikari-net.example/family/">ファミリー割の詳細を見る</a></p>
</td></tr>
<tr><td style="font-size:0px;line-height:0px;">
配信停止をご希望の方はこちら \
<a href="https://www.hikari-net.example/mail/settings">\
https://www.hikari-net.example/mail/settings</a>
</td></tr>
<tr><td style="padding:20px;font-size:12px;color:#666666;">
ひかり通信株式会社　〒150-0002 東京都渋谷区渋谷2-3-4<br>
お客様窓口 フリーダイヤル 0120-000-111
</td></tr>
</table>
</body></html>
"""

H19_TEXT = """\
みなと電子 会員の皆さまへ

ポイント2倍デーのお知らせです。
11月15日（土）0:00〜23:59、オンラインショップでのお買い物すべてが
ポイント2倍になります。

https://shop.minato.example/points/

株式会社みなと電子
"""

H19_FOOTER = """\
──────────────────
▼メール配信停止（unsubscribe）
https://shop.minato.example/unsubscribe
所在地：〒530-0001 大阪府大阪市北区梅田1-2-3
お問い合わせ：06-6123-4567
──────────────────
"""

H20_TEXT = """\
吉田 様

ご注文いただいた商品を本日発送いたしました。

注文番号：OG-20251104-0187
商品　　：純米吟醸 ひやおろし 720ml × 2本
お届け予定：11月6日（木）午前中
配送業者：ヤマネコ便　お問い合わせ番号 4821-7730-5519

到着まで今しばらくお待ちください。

☆★☆★☆★☆★☆★☆★☆★☆★
年末年始の贈り物に、日本酒ギフトはいかがですか？
https://www.ogiya.example/gift/
☆★☆★☆★☆★☆★☆★☆★☆★

オンラインショップ事務局
"""

H21_TEXT = """\
ひかり通信をご利用のお客様

光回線のWi-Fiルーターを、最新のWi-Fi 7対応モデルに無料で交換できます。
対象：ご利用開始から3年以上のお客様
期限：2025年12月25日

お申し込み https://www.hikari-net.example/router/

配信停止・配信先の変更はこちら
https://www.hikari-net.example/mail/settings

ひかり通信株式会社　お問い合わせ 0120-000-111
"""

H21_HTML = """\
<html><head><meta charset="utf-8"></head>
<body>
<table width="600" cellpadding="16" cellspacing="0" border="0" align="center">
<tr><td>
<p>ひかり通信をご利用のお客様</p>
<h2>Wi-Fi 7ルーター 無料交換キャンペーン</h2>
<p>光回線のWi-Fiルーターを、最新のWi-Fi 7対応モデルに無料で交換できます。</p>
<table border="1" cellpadding="6" style="border-collapse:collapse;">
<tr><th>対象</th><td>ご利用開始から3年以上のお客様</td></tr>
<tr><th>期限</th><td>2025年12月25日</td></tr>
</table>
<p><a href="https://www.hikari-net.example/router/">お申し込みはこちら</a></p>
</td></tr>
<tr><td style="font-size:12px;color:#555555;border-top:1px solid #cccccc;">
配信停止・配信先の変更は<a href="https://www.hikari-net.example/mail/settings">こちら</a><br>
ひかり通信株式会社　〒150-0002 東京都渋谷区渋谷2-3-4<br>
お問い合わせ 0120-000-111
</td></tr>
</table>
</body></html>
"""

H22_TEXT = """\
こもれび工房　法人のお客様へ

記念品・ノベルティ向けの木製名入れグッズのご案内です。
コースター、名刺入れ、ペントレーなど、50個からお作りします。
今年の新作サンプル一覧をお送りしますので、ご検討ください。

サンプル一覧：https://www.komorebi.example/biz/novelty/

ご案内メールの配信をご希望でない場合は
teishi@komorebi.example までご連絡ください。配信を停止いたします。

株式会社こもれび工房　法人営業担当
"""

H23_TEXT = """\
合同会社やまびこ酒造　酒蔵だより 冬号

寒仕込みが始まりました。
今季は新しく「美山錦 生酛仕込み」に挑戦しています。
仕込みの様子を写真とともに蔵のブログで紹介しています。
https://www.yamabiko.example/blog/kanjikomi-2026/

冬季限定の「にごり生酒」は1月中旬の発売予定です。
ご予約はオンラインストアから。
https://www.yamabiko.example/store/nigori/

合同会社やまびこ酒造
〒390-0811 長野県松本市中央4-5-6
TEL 0263-00-1234

※本メールは送信専用アドレスからお送りしています。
　ご返信いただいてもお答えできませんのでご了承ください。
"""

H24_TEXT = """\
新生活応援フェア / New Life Fair 2026

一人暮らしを始める方に人気の家電をセットでお得に。
電子レンジ・炊飯器・電気ケトルの3点セット 29,800円（税込）

詳しくは特設ページへ
https://shop.minato.example/fair/newlife/

--
メール配信の解除 / Unsubscribe:
https://shop.minato.example/unsubscribe

株式会社みなと電子
所在地：大阪市北区
お問い合わせ：support@minato.example
"""

H24_HTML = """\
<html><head><meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS"></head>
<body style="font-family:sans-serif;">
<h2>新生活応援フェア / New Life Fair 2026</h2>
<p>一人暮らしを始める方に人気の家電をセットでお得に。<br>
電子レンジ・炊飯器・電気ケトルの3点セット <b>29,800円</b>（税込）</p>
<p><a href="https://shop.minato.example/fair/newlife/">詳しくは特設ページへ</a></p>
<hr>
<p style="font-size:12px;">メール配信の解除 / Unsubscribe:
<a href="https://shop.minato.example/unsubscribe">https://shop.minato.example/unsubscribe</a></p>
<p style="font-size:12px;">株式会社みなと電子<br>
所在地：大阪市北区<br>
お問い合わせ：<a href="mailto:support@minato.example">support@minato.example</a></p>
</body></html>
"""


def _t(body: str, charset: str, cte: str, subtype: str = "plain", **kw: object) -> object:
    return mime.text(body, charset, cte, subtype, **kw)


def _alt(boundary: str, *parts: object) -> object:
    return mime.multipart("alternative", boundary, *parts)


def _mixed(boundary: str, *parts: object) -> object:
    return mime.multipart("mixed", boundary, *parts)


CATALOG_PDF = pdf(
    "Minato Denshi 2026 Spring Catalog",
    ["MD-700 series handy terminals", "Power consumption down about 30%"],
)
PROFILE_PDF = pdf(
    "Komorebi Kobo company profile",
    [
        "Kabushiki Kaisha Komorebi Kobo",
        "3-15-8 Sakae, Naka-ku, Nagoya, Aichi 460-0008",
        "Tel 052-000-1234",
    ],
)

MAILS: list[Mail] = [
    Mail(
        "h01_ogiya_kanzake_yametai_hou_iso2022jp.eml",
        "ogiya",
        "advertising",
        (),
        "Compliant. D1 扇屋商店; D2 the profile's opt-out URL; D3 「メルマガの受け取りをやめたい方"
        "はこちら」 is on the line immediately before the URL and says in plain words that the "
        "reader can stop receiving the newsletter (LAW.md D3: a statement that the recipient may "
        "opt out, immediately before or after D2; the law asks for the statement, not for the "
        "word 停止); D4 本社：〒100-0013 東京都千代田区霞が関9-1-1; D5 お客様窓口：03-1234-5678. "
        "One ISO-2022-JP part (D6).",
        "扇屋商店",
        "news@ogiya.example",
        "【扇屋商店】秋の燗酒フェア、はじまりました",
        "iso-2022-jp",
        _t(H01_TEXT, "iso-2022-jp", "7bit"),
        "Wed, 01 Oct 2025 09:30:00 +0900",
    ),
    Mail(
        "h02_hikari_mobile_setwari_halfwidth_sjis.eml",
        "hikari",
        "advertising",
        (),
        "Compliant, mobile text style. D1 ひかり通信(株) (= ひかり通信株式会社); D2 the profile's "
        "opt-out URL; D3 「▼配信設定の変更･停止」 on the line right above it (half-width ･, "
        "opt-out wording by the slides' ③: オプトアウトの通知ができる旨, immediately before the "
        "URL); the rule lines ――――― sit outside the pair. D4 東京都渋谷区渋谷２−３−４ "
        "(full-width digits, U+2212 as typed in Shift_JIS; no postal code is needed, the law asks "
        "for the 住所); D5 ﾌﾘｰﾀﾞｲﾔﾙ ０１２０−０００−１１１. One Shift_JIS part.",
        "ひかり通信",
        "info@hikari-net.example",
        "【ひかり通信】今だけ!ｽﾏﾎｾｯﾄ割ｷｬﾝﾍﾟｰﾝ",
        "shift_jis",
        _t(H02_TEXT, "shift_jis", "8bit"),
        "Thu, 06 Nov 2025 12:00:00 +0900",
    ),
    Mail(
        "h03_minato_spring_sale_builder_alternative_utf8_b64.eml",
        "minato",
        "advertising",
        (),
        "Compliant in both alternatives, English/Japanese mix from a mail builder. D1 Minato "
        "Denshi Co.,Ltd. (the profile's English name); D2 the opt-out URL (plain: as text; "
        "HTML: link 'Manage your email preferences'); D3 「メール配信の停止」 on the line above "
        "the URL (plain) and 「メール配信の停止はこちらから:」 right before the link (HTML); D4 "
        "the Western address 1-2-3 Umeda, Kita-ku, Osaka 530-0001, Japan; D5 "
        "support@minato.example. Both parts UTF-8 base64 (D6).",
        "Minato Denshi",
        "news@minato.example",
        "[Minato Denshi] Spring Sale 🌸 最大40%OFF",
        "utf-8",
        _alt(
            "=_h03_alt_7b1c",
            _t(H03_TEXT, "utf-8", "base64"),
            _t(H03_HTML, "utf-8", "base64", "html"),
        ),
        "Mon, 03 Mar 2025 10:00:00 +0900",
    ),
    Mail(
        "h04_komorebi_class_optout_by_mail_kanji_address_eucjp.eml",
        "komorebi",
        "advertising",
        (),
        "Compliant. D2 the opt-out address teishi@komorebi.example; D3 「今後メールの受信を希望"
        "されない方は、」 right before it and 「…まで空メールをお送りください。」 on its line: a "
        "plain statement that the reader may refuse further mail (LAW.md D3), though it uses "
        "neither 停止 nor 解除. D1 株式会社こもれび工房; D4 所在地 名古屋市中区栄三丁目15番8号 "
        "(the profile's address in kanji numerals, no prefecture or postal code: still the "
        "住所); D5 電話 052-000-1234. One EUC-JP part.",
        "株式会社こもれび工房",
        "info@komorebi.example",
        "【こもれび工房】冬の木工教室 受講生募集のお知らせ",
        "euc-jp",
        _t(H04_TEXT, "euc-jp", "8bit"),
        "Sat, 01 Nov 2025 08:00:00 +0900",
    ),
    Mail(
        "h05_yamabiko_shiboritate_reply_optout_iso2022jp.eml",
        "yamabiko",
        "advertising",
        (),
        "Compliant, opt-out by reply. The slides (表示事項③): where opt-out is by mail to the "
        "sending address, the statement may stand anywhere easy to see; 「今後このようなご案内が"
        "ご不要の方は…本メールに「停止」とだけ書いてご返信ください」 says so, and the sending "
        "address info@yamabiko.example is also printed in the signature (D2). D1 合同会社やまびこ"
        "酒造; D4 〒390-0811 長野県松本市中央4-5-6; D5 TEL 0263-00-1234. One ISO-2022-JP part.",
        "合同会社やまびこ酒造",
        "info@yamabiko.example",
        "新酒しぼりたて、蔵出しのご案内",
        "iso-2022-jp",
        _t(H05_TEXT, "iso-2022-jp", "7bit"),
        "Tue, 25 Nov 2025 17:45:00 +0900",
    ),
    Mail(
        "h06_ogiya_kikizake_alternative_iso2022jp_html_utf8_qp.eml",
        "ogiya",
        "advertising",
        (),
        "Compliant. Each alternative is complete on its own: D1 扇屋商店, D2 the opt-out URL, D3 "
        "「ご案内が不要になりましたら、下記ページから配信を止められます。」 right before the URL "
        "(plain) / around the link (HTML), D4 〒100-0013 東京都千代田区霞が関9-1-1, D5 "
        "各種お問い合わせ：03-1234-5678. D6: the plain part and its items are ISO-2022-JP, the "
        "HTML part and its items are UTF-8; the slides ask that the items be encoded in the same "
        "charset as the message text (通信文と同一の文字コード), and each alternative is a whole "
        "rendering of the message text in its own charset, so no item is in a foreign charset. "
        "The README's D6 wording ('the main (first) text part's' charset) could be read as "
        "flagging the UTF-8 HTML alternative; labelled by the law: compliant.",
        "扇屋商店",
        "news@ogiya.example",
        "蔵元を招いての利き酒会、残りわずかです",
        "iso-2022-jp",
        _alt(
            "=_h06_alt_40d2",
            _t(H06_TEXT, "iso-2022-jp", "7bit"),
            _t(H06_HTML, "utf-8", "quoted-printable", "html"),
        ),
        "Fri, 14 Nov 2025 11:00:00 +0900",
    ),
    Mail(
        "h07_hikari_bill_with_tv_ad_incidental_utf8_qp.eml",
        "hikari",
        "incidental",
        (),
        "Compliant. A monthly bill (契約に伴う料金請求) with an ad riding on it, like the "
        "slides' 料金請求に付随的な広告・宣伝が含まれる例: an opt-out exception (O3(a)), so only "
        "the sender's name is required (D7), and ひかり通信株式会社 is shown. No opt-out, address "
        "or contact is needed.",
        "ひかり通信",
        "billing@hikari-net.example",
        "【ひかり通信】10月分ご利用料金のお知らせ",
        "utf-8",
        _t(H07_TEXT, "utf-8", "quoted-printable"),
        "Mon, 10 Nov 2025 07:00:00 +0900",
    ),
    Mail(
        "h08_minato_catalog_pdf_attachment_iso2022jp.eml",
        "minato",
        "advertising",
        (),
        "Compliant; multipart/mixed with a PDF catalogue. Everything is in the ISO-2022-JP body: "
        "D1 株式会社みなと電子; D4 本社：〒530-0001 大阪府大阪市北区梅田1-2-3; D5 電話 "
        "06-6123-4567 and support@minato.example; D3 「弊社からのご案内メールの配信解除をご希望"
        "の場合は、/以下のURLよりお手続きください。」 on the two lines right above D2, the "
        "opt-out URL. The attachment adds nothing and takes nothing away.",
        "株式会社みなと電子 法人営業部",
        "biz@minato.example",
        "【みなと電子】法人様向け 新製品カタログ送付のご案内",
        "iso-2022-jp",
        _mixed(
            "=_h08_mix_c3a9",
            _t(H08_TEXT, "iso-2022-jp", "7bit"),
            mime.binary(CATALOG_PDF, "application/pdf", "minato_catalog_2026spring.pdf"),
        ),
        "Wed, 21 Jan 2026 10:15:00 +0900",
    ),
    Mail(
        "h09_ogiya_fukubukuro_company_page_link_sjis_b64.eml",
        "ogiya",
        "advertising",
        (),
        "Compliant. D2 the opt-out URL with 「配信停止・アドレス変更は次のページで承ります。」 on "
        "the line right above (D3). D4 and D5 are on a linked page and the mail says where: "
        "「所在地・お問い合わせ窓口は会社案内ページをご覧ください。」 over "
        "https://www.ogiya.example/company/ (slides: 任意の場所（リンク先での表示も可）; "
        "リンク先での表示とする場合は、その場所を示す情報を電子メールに表示). D1 扇屋商店. One "
        "Shift_JIS part, base64.",
        "扇屋商店 オンラインショップ",
        "shop@ogiya.example",
        "新春福袋の予約受付を開始しました",
        "shift_jis",
        _t(H09_TEXT, "shift_jis", "base64"),
        "Mon, 01 Dec 2025 09:00:00 +0900",
    ),
    Mail(
        "h10_komorebi_emoji_heading_html_mailto_utf8_b64.eml",
        "komorebi",
        "advertising",
        (),
        "Compliant; HTML only, emoji in the heading and in the footer. D2 teishi@komorebi.example "
        "(shown as text, also a mailto: link); D3 「配信停止をご希望の方は、」 before it and 「宛に"
        "空メールをお送りください。」 after it on the same line; D1 株式会社こもれび工房; D4 "
        "〒460-0008 愛知県名古屋市中区栄3-15-8; D5 ☎ 052-000-1234. The white text on the green "
        "'商品ページを見る' button is visible (coloured background) and carries no item. UTF-8.",
        "こもれび工房",
        "news@komorebi.example",
        "🌿新作入荷🌿 山桜のカッティングボード",
        "utf-8",
        _t(H10_HTML, "utf-8", "base64", "html"),
        "Thu, 04 Dec 2025 19:00:00 +0900",
    ),
    Mail(
        "h11_hikari_security_heading_rule_glyphs_utf8_b64.eml",
        "hikari",
        "advertising",
        (),
        "Compliant. D3 is the heading 「━━━ お知らせメールを止めたいときは ━━━」 right above "
        "the opt-out URL (a heading with words, not a rule line) and 「（「メール配信設定」から"
        "解除できます）」 right below it: both immediately before/after D2, the way the "
        "ministry's example puts a 【配信停止手続】 heading over the URL. D1 ひかり通信株式会社; "
        "D4 〒150-0002 東京都渋谷区渋谷2-3-4; D5 0120-000-111. One UTF-8 part.",
        "ひかり通信",
        "info@hikari-net.example",
        "【ひかり通信】セキュリティ対策サービス 初月無料のご案内",
        "utf-8",
        _t(H11_TEXT, "utf-8", "base64"),
        "Tue, 18 Nov 2025 12:30:00 +0900",
    ),
    Mail(
        "h12_ogiya_hiyaoroshi_statement_at_top_url_at_bottom_iso2022jp.eml",
        "ogiya",
        "advertising",
        ("D3",),
        "D3. The only opt-out statement is the second line of the mail (「※メルマガの配信停止を"
        "ご希望の方は、本メール末尾のリンクからお手続きください。」); the opt-out URL is some "
        "twenty lines further down, in the footer under TEL 03-1234-5678 with nothing saying what "
        "it is. LAW.md D3 / slides ③: the statement must stand オプトアウトの通知先である電子"
        "メールアドレス又はＵＲＬ等の直前又は直後; a pointer from the top of the mail is not that. "
        "D1, D2 (the URL is shown), D4, D5 are present.",
        "扇屋商店",
        "news@ogiya.example",
        "【扇屋商店】ひやおろし飲み比べセットのご案内",
        "iso-2022-jp",
        _t(H12_TEXT, "iso-2022-jp", "7bit"),
        "Fri, 10 Oct 2025 18:00:00 +0900",
    ),
    Mail(
        "h13_hikari_10g_optout_button_only_shousai_html_utf8_b64.eml",
        "hikari",
        "advertising",
        ("D3",),
        "D3. The opt-out URL is printed under 「メール配信について」 and next to it is a "
        "button whose only label is 「詳細」 (linking to the same page). Nothing anywhere in "
        "the mail says that the reader may stop the mail: 「メール配信について」 ('about our "
        "mails') and 「詳細」 ('details') are not オプトアウトの通知ができる旨 "
        "(slides ③, LAW.md D3); the README lists "
        "「詳しくはこちら」 and 「こちら」 as not a statement. D2 itself is shown (the URL, in "
        "text and as the button's link); D1, D4, D5 are present.",
        "ひかり通信",
        "info@hikari-net.example",
        "【ひかり通信】10ギガプラン 提供エリア拡大のお知らせ",
        "utf-8",
        _t(H13_HTML, "utf-8", "base64", "html"),
        "Wed, 22 Oct 2025 10:00:00 +0900",
    ),
    Mail(
        "h14_minato_timesale_no_postal_address_utf8_qp.eml",
        "minato",
        "advertising",
        ("D4",),
        "D4. No postal address anywhere, and no link said to hold one: the footer has the "
        "opt-out statement and URL (D2, D3), a support address (D5) and 運営：株式会社みなと電子 "
        "(D1), but LAW.md D4 asks for the sender's 住所, in the mail or on a linked page the "
        "mail points to. The sale URL says nothing about the address.",
        "みなと電子オンラインショップ",
        "shop@minato.example",
        "【みなと電子】週末限定 タイムセール開催中",
        "utf-8",
        _t(H14_TEXT, "utf-8", "quoted-printable"),
        "Sat, 15 Nov 2025 08:00:00 +0900",
    ),
    Mail(
        "h15_komorebi_gallery_no_enquiry_contact_eucjp_b64.eml",
        "komorebi",
        "advertising",
        ("D5",),
        "D5. No phone number, no enquiry e-mail address and no URL said to take complaints or "
        "enquiries (LAW.md D5 / slides: 苦情・問合せ等を受け付けることができる電話番号、電子"
        "メールアドレス又はＵＲＬ). teishi@komorebi.example is given only for unsubscribing "
        "(「メールマガジンの解除は…宛に件名「解除」で」), and the gallery URL is a page about the "
        "exhibition. D1, D2, D3 (the statement wraps onto the next line), D4 are present. One "
        "EUC-JP part, base64.",
        "株式会社こもれび工房",
        "info@komorebi.example",
        "【こもれび工房】年末の営業とギャラリー展示のお知らせ",
        "euc-jp",
        _t(H15_TEXT, "euc-jp", "base64"),
        "Mon, 01 Dec 2025 08:00:00 +0900",
    ),
    Mail(
        "h16_yamabiko_kurabiraki_mobile_no_name_sjis.eml",
        "yamabiko",
        "advertising",
        ("D1",),
        "D1. The sender's name 合同会社やまびこ酒造 is nowhere in the mail: it is signed 「蔵元ｽﾀｯﾌ"
        "一同」 and the From display name is the product brand 山響. LAW.md D1 asks for 送信者等の"
        "氏名又は名称. Opt-out is by reply (「※配信停止はこのﾒｰﾙに｢停止｣と返信してください」, "
        "D2/D3: statement anywhere), D4 蔵元所在地 長野県松本市中央4-5-6, D5 0263-00-1234 are "
        "present. Shift_JIS mobile text with half-width kana.",
        "山響 蔵だより",
        "info@yamabiko.example",
        "【山響】蔵開きのお知らせ",
        "shift_jis",
        _t(H16_TEXT, "shift_jis", "8bit"),
        "Sat, 15 Feb 2025 10:00:00 +0900",
    ),
    Mail(
        "h17_ogiya_nigori_address_white_on_white_html_utf8_b64.eml",
        "ogiya",
        "advertising",
        ("D4",),
        "D4. The only postal address is in a table cell styled color:#ffffff on the white "
        "(#ffffff) page: it is in the source but not shown. Art. 4 asks that the items be 正しく"
        "表示 on the recipient's screen; the README: white on white never counts. D1 扇屋商店, "
        "D2 the opt-out URL with 「配信停止のお手続き：」 (D3), D5 お客様窓口 03-1234-5678 "
        "are visible.",
        "扇屋商店",
        "news@ogiya.example",
        "🍶冬季限定 にごり酒が入荷しました",
        "utf-8",
        _t(H17_HTML, "utf-8", "base64", "html"),
        "Tue, 09 Dec 2025 16:00:00 +0900",
    ),
    Mail(
        "h18_hikari_family_optout_font_size_zero_html_sjis.eml",
        "hikari",
        "advertising",
        ("D2", "D3"),
        "D2 and D3. The opt-out statement and URL sit in a cell with font-size:0px and "
        "line-height:0px, so nothing of them is shown; Art. 4: 正しく表示されるように. With them "
        "hidden there is neither an opt-out target (D2) nor a statement (D3) on screen. D1 ひかり"
        "通信株式会社, D4 〒150-0002 東京都渋谷区渋谷2-3-4, D5 フリーダイヤル 0120-000-111 are "
        "visible. HTML only, Shift_JIS 8bit.",
        "ひかり通信",
        "info@hikari-net.example",
        "【ひかり通信】ファミリー割スタートのお知らせ",
        "shift_jis",
        _t(H18_HTML, "shift_jis", "8bit", "html"),
        "Thu, 20 Nov 2025 12:00:00 +0900",
    ),
    Mail(
        "h19_minato_points_footer_part_utf8_under_iso2022jp.eml",
        "minato",
        "advertising",
        ("D6",),
        "D6. The message text is ISO-2022-JP (first part, with the name 株式会社みなと電子); the "
        "ESP appended the opt-out statement and URL, the address and the enquiry phone as a "
        "second inline text/plain part in UTF-8. Slides: 電子メール内の表示事項は通信文と同一の"
        "文字コードを用いて符号化しなければならない. D2-D5 are otherwise all there, so only D6 is "
        "broken.",
        "株式会社みなと電子",
        "news@minato.example",
        "【みなと電子】ポイント2倍デーのお知らせ",
        "iso-2022-jp",
        _mixed(
            "=_h19_mix_91fe",
            _t(H19_TEXT, "iso-2022-jp", "7bit"),
            _t(H19_FOOTER, "utf-8", "quoted-printable", inline=True),
        ),
        "Fri, 14 Nov 2025 20:00:00 +0900",
    ),
    Mail(
        "h20_ogiya_shipping_notice_gift_ad_no_name_iso2022jp.eml",
        "ogiya",
        "incidental",
        ("D1",),
        "D1 (per D7). A shipping notice for an order (契約に伴う事務連絡) carrying a gift ad: an "
        "opt-out exception (O3(a)), so only the sender's name is required (D7) - and it is "
        "missing: the mail is signed 「オンラインショップ事務局」, From has no display name. No "
        "opt-out, address or contact is required, so no other finding.",
        "",
        "shop@ogiya.example",
        "ご注文商品発送のお知らせ（注文番号 OG-20251104-0187）",
        "iso-2022-jp",
        _t(H20_TEXT, "iso-2022-jp", "7bit"),
        "Tue, 04 Nov 2025 15:20:00 +0900",
    ),
    Mail(
        "h21_hikari_router_plain_alt_lacks_address_utf8_qp.eml",
        "hikari",
        "advertising",
        ("D4",),
        "D4. multipart/alternative: the HTML alternative shows 〒150-0002 東京都渋谷区渋谷2-3-4, "
        "the text/plain alternative does not (name, opt-out statement + URL and 0120-000-111 are "
        "in both). A text-only mail client shows only the plain part, so on that screen the "
        "address is not displayed (Art. 4: on the recipient's 通信端末機器の映像面); README: each "
        "alternative must carry every item on its own.",
        "ひかり通信",
        "info@hikari-net.example",
        "【ひかり通信】Wi-Fi 7ルーター 無料交換キャンペーン",
        "utf-8",
        _alt(
            "=_h21_alt_5e07",
            _t(H21_TEXT, "utf-8", "quoted-printable"),
            _t(H21_HTML, "utf-8", "quoted-printable", "html"),
        ),
        "Mon, 24 Nov 2025 10:00:00 +0900",
    ),
    Mail(
        "h22_komorebi_novelty_company_profile_only_in_pdf_iso2022jp.eml",
        "komorebi",
        "advertising",
        ("D4", "D5"),
        "D4 and D5. The address and the phone are only in the attached PDF company profile; the "
        "mail body (ISO-2022-JP) has the name (D1) and the opt-out address teishi@komorebi.example "
        "with 「ご案内メールの配信をご希望でない場合は」 above it and 「配信を停止いたします」 on "
        "its line (D2, D3), but no address and no enquiry contact, and it does not say where they "
        "are. An attachment is not displayed on the screen with the mail (Art. 4 正しく表示; "
        "slides: 電子メールの中の任意の場所, or a linked page the mail points to); README: "
        "attachments never count.",
        "株式会社こもれび工房",
        "biz@komorebi.example",
        "【こもれび工房】記念品・ノベルティ向け 名入れグッズのご案内",
        "iso-2022-jp",
        _mixed(
            "=_h22_mix_a1b4",
            _t(H22_TEXT, "iso-2022-jp", "7bit"),
            mime.binary(PROFILE_PDF, "application/pdf", "komorebi_company_profile.pdf"),
        ),
        "Wed, 15 Oct 2025 13:00:00 +0900",
    ),
    Mail(
        "h23_yamabiko_newsletter_noreply_no_optout_utf8_b64.eml",
        "yamabiko",
        "advertising",
        ("D2", "D3"),
        "D2 and D3. The newsletter is sent from no-reply@yamabiko.example and says replies are "
        "not read (「本メールは送信専用アドレスからお送りしています。ご返信いただいても…」), and "
        "there is no opt-out URL or address and no opt-out wording at all. LAW.md D2 (the "
        "address or URL that takes opt-out requests) and D3 (the statement) are both missing. "
        "D1, D4, D5 are present.",
        "合同会社やまびこ酒造",
        "no-reply@yamabiko.example",
        "酒蔵だより 冬号 ― 寒仕込みが始まりました",
        "utf-8",
        _t(H23_TEXT, "utf-8", "base64"),
        "Fri, 09 Jan 2026 09:00:00 +0900",
    ),
    Mail(
        "h24_minato_newlife_ward_only_address_alternative_sjis.eml",
        "minato",
        "advertising",
        ("D4",),
        "D4, labelled by the law against the README's wording. Both alternatives say 「所在地："
        "大阪市北区」 - a city ward, not the sender's 住所 (LAW.md D4: the sender's postal "
        "address; the ministry's example: 所在地：〒100-000 千代田区霞が関9-1-1, postal code and "
        "street). Nothing could be posted to 大阪市北区. The README's D4 row counts any "
        "'所在地：… label' as shown, which would pass this mail; by the law it is not the address. "
        "D1, D2 + D3 (「メール配信の解除 / Unsubscribe:」 right before the URL), D5 "
        "support@minato.example are present. Shift_JIS plain 8bit + Shift_JIS HTML QP.",
        "株式会社みなと電子",
        "news@minato.example",
        "【みなと電子】新生活応援フェア / New Life Fair 2026",
        "shift_jis",
        _alt(
            "=_h24_alt_d8c0",
            _t(H24_TEXT, "shift_jis", "8bit"),
            _t(H24_HTML, "shift_jis", "quoted-printable", "html"),
        ),
        "Sun, 01 Feb 2026 09:00:00 +0900",
    ),
]


def render(mail: Mail, number: int) -> bytes:
    domain = mail.from_addr.split("@", 1)[1]
    top = [
        f"From: {mime.mailbox(mail.from_name, mail.from_addr, mail.charset)}",
        "To: yoshida@example.jp",
        f"Subject: {mime.encoded_word(mail.subject, mail.charset)}",
        f"Date: {mail.date}",
        f"Message-ID: <holdout-{number:02d}.{mail.sender}@{domain}>",
    ]
    return mime.message(top, mail.content)


def toml_str(value: str) -> str:
    """A TOML basic string (JSON's escaping is valid TOML for these strings)."""
    return json.dumps(value, ensure_ascii=False)


def labels() -> str:
    out = [HEADER, SENDERS]
    for mail in MAILS:
        expected = ", ".join(toml_str(rule) for rule in mail.expected)
        out.append(
            "\n[[mail]]\n"
            f"file = {toml_str(mail.file)}\n"
            f"sender = {toml_str(mail.sender)}\n"
            f"category = {toml_str(mail.category)}\n"
            f"expected = [{expected}]\n"
            f"why = {toml_str(mail.why)}\n"
        )
    return "".join(out)


def main() -> None:
    files = [mail.file for mail in MAILS]
    if len(set(files)) != len(files):
        raise SystemExit("duplicate file names")
    for stale in HERE.glob("*.eml"):
        if stale.name not in files:
            stale.unlink()
    for number, mail in enumerate(MAILS, start=1):
        (HERE / mail.file).write_bytes(render(mail, number))
    (HERE / "labels.toml").write_text(labels(), encoding="utf-8")
    print(f"wrote {len(MAILS)} mails and labels.toml to {HERE}")


if __name__ == "__main__":
    main()
