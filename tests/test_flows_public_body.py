"""The body of a public record page (flows/public_body.py): 正文 without 版头 and 版记."""

from __future__ import annotations

from gongkai.flows.public_body import public_body

TEXT = """机密★5年
石狮市鸿山镇人民政府文件
鸿政[2020]107号
关于同意伍堡村调整村级建制规划的批复
伍堡村民委员会：
　　你单位《关于调整村级建制规划的请示》收悉。经研究，现批复如下：
　　同意调整。
　　　　　　　　　　　　石狮市鸿山镇人民政府
　　　　　　　　　　　　2020年08月01日
（此件不予公开）
抄送：市政府办，市财政局。
石狮市鸿山镇党政办公室	2020年8月4日印发
— 1 —"""


def kinds(text: str, **kw: str | None) -> list[tuple[str, str]]:
    return [(b.kind, b.text) for b in public_body(text, **kw)]


def test_head_record_and_a_stale_note_are_left_out() -> None:
    assert kinds(TEXT, title="关于同意伍堡村调整村级建制规划的批复",
                 file_number="鸿政〔2020〕107号") == [
        ("salutation", "伍堡村民委员会："),
        ("paragraph", "你单位《关于调整村级建制规划的请示》收悉。经研究，现批复如下："),
        ("paragraph", "同意调整。"),
        ("signature", "石狮市鸿山镇人民政府"),
        ("date", "2020年08月01日"),
    ]  # fmt: skip


def test_without_a_known_title_the_head_lines_still_go_and_an_active_note_stays() -> None:
    text = TEXT.replace("（此件不予公开）", "（此件主动公开）")
    blocks = kinds(text, title=None, file_number="鸿政〔2020〕107号")
    assert blocks[0] == ("paragraph", "关于同意伍堡村调整村级建制规划的批复")
    assert ("note", "（此件主动公开）") in blocks
    assert not any("印发" in t or "抄送" in t or t[-2:] == "文件" for _, t in blocks)


def test_joint_signatures_are_all_marked() -> None:
    text = "通知\n正文一段。\n甲局\n乙局\n2021年1月1日"
    assert kinds(text, title="通知") == [
        ("paragraph", "正文一段。"), ("signature", "甲局"), ("signature", "乙局"),
        ("date", "2021年1月1日")]  # fmt: skip

