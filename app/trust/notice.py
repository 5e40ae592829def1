"""The printable privacy notice (个人信息保护告知书) handed to members, in Chinese, as an A4 PDF with the embedded
CJK font. The text says what the store collects, why, how long it keeps it and how a member uses their rights
(PIPL arts. 17, 44–47); the store's name and the inactivity period come from the settings."""

from __future__ import annotations

from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

from app.printing.fonts import regular_font

TITLE = "会员个人信息保护告知书"


def notice_paragraphs(store_name: str, inactive_months: int) -> list[tuple[str, str]]:
    """(heading, text) pairs; a heading of "" is a plain paragraph."""
    return [
        (
            "",
            f"{store_name}（以下简称“本店”）依据《中华人民共和国个人信息保护法》处理您的个人信息。"
            "请您在办理会员前仔细阅读本告知书。",
        ),
        (
            "一、我们收集的信息",
            "姓名、手机号码、性别、生日、会员卡号；您自愿提供时的身份证号码；您在本店的消费记录、积分、兑换、"
            "优惠券、投诉与回访记录。",
        ),
        (
            "二、使用目的",
            "识别会员身份、累计与使用积分、提供会员价格与礼品、处理售后与投诉。仅在您另行同意营销时，"
            "才会向您发送优惠信息；营销同意与会员资格相互独立，可随时撤回。",
        ),
        (
            "三、保存与保护",
            "身份证号码加密保存，密钥不存放在数据库中；收银员只能看到隐藏中间四位的手机号码；"
            "员工对会员资料的每一次修改都记入不可篡改的审计日志。数据保存在本店的电脑或本店的服务器上，不向第三方提供。",
        ),
        (
            "四、保存期限",
            f"会员连续 {inactive_months} 个月未到店消费的，本店将复核其资料，并在您未继续使用会员服务时删除"
            "（匿名化）您的个人信息。为满足财务记账要求，匿名化后的消费金额与积分合计仍予保留，但不再能识别到您本人。",
        ),
        (
            "五、您的权利",
            "您可以在收银台随时：查询并获取您的个人信息副本；更正不准确的信息；撤回营销同意；"
            "要求删除您的个人信息并注销会员。本店将在核实身份后十五个工作日内办理。",
        ),
        ("六、联系我们", "如有疑问或投诉，请联系店长，或拨打门店服务电话。"),
    ]


def write_privacy_notice(path: Path, store_name: str, inactive_months: int) -> Path:
    font = regular_font()
    title = ParagraphStyle("title", fontName=font, fontSize=18, leading=26, alignment=1, spaceAfter=6 * mm)
    heading = ParagraphStyle("heading", fontName=font, fontSize=12.5, leading=18, spaceBefore=4 * mm)
    body = ParagraphStyle("body", fontName=font, fontSize=11, leading=17, wordWrap="CJK", firstLineIndent=22)
    story: list[object] = [Paragraph(TITLE, title)]
    for head, text in notice_paragraphs(store_name, inactive_months):
        if head:
            story.append(Paragraph(head, heading))
        story.append(Paragraph(text, body))
    story += [Spacer(1, 12 * mm), Paragraph("会员签名：____________　　日期：____________", body)]
    doc = SimpleDocTemplate(
        str(path),
        pagesize=A4,
        leftMargin=22 * mm,
        rightMargin=22 * mm,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
        title=TITLE,
        creator="MemberDesk",
        lang="zh-CN",
        initialFontName=font,  # else ReportLab declares an unembedded Helvetica on every page
    )
    doc.build(story)
    return path
