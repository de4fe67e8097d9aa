"""The supervisor's review on /insiden in headless Chromium: merge by choosing among nearby
reports (no UUID to type), and a message confirming each verify and merge."""
from __future__ import annotations

from sqlalchemy import text

from entry import seed as S
from entry.test_browser import log_in, page  # noqa: F401  (the phone-sized page fixture)
from entry.test_review_readiness import create


def status(engine, ident):
    with engine.connect() as conn:
        return conn.execute(text("SELECT status, merged_into::text FROM incident WHERE id = :i"),
                            {"i": ident}).one()


def test_merge_offers_nearby_reports_to_choose_and_confirms_with_a_message(page, as_role,  # noqa: F811
                                                                          engine):
    staff = as_role("desk_staff")
    first = create(staff, S.IN_B, "perusakan_logistik", "2024-02-14T10:00")
    twin = create(staff, (S.IN_B[0] + 0.001, S.IN_B[1]), "perusakan_logistik",
                  "2024-02-14T10:30")
    log_in(page, "/insiden", role="supervisor")
    row = page.locator(f"tr[data-id='{twin}']")
    row.get_by_role("button", name="Gabung…").click()
    choice = row.locator(".merge-panel label.candidate").first
    choice.wait_for()
    # the likely duplicate comes first, said in words: category, TPS · kelurahan, distance
    assert "Perusakan" in choice.inner_text() and "mungkin duplikat" in choice.inner_text()
    assert "Kelurahan B" in choice.inner_text() and " m, " in choice.inner_text()
    page.on("dialog", lambda d: (_ for _ in ()).throw(AssertionError("no prompt() expected")))
    row.get_by_role("button", name="Gabungkan").click()
    page.wait_for_selector("#review-message:not([hidden])")
    message = page.text_content("#review-message")
    assert "digabung ke laporan" in message and first[:8] in message
    assert tuple(status(engine, twin)) == ("merged", first)


def test_verify_is_confirmed_with_a_message_naming_the_report(page, as_role, engine):  # noqa: F811
    ident = create(as_role("desk_staff"), S.IN_A, "intimidasi", "2024-02-14T11:00")
    log_in(page, "/insiden", role="supervisor")
    page.locator(f"tr[data-id='{ident}']").get_by_role("button", name="Verifikasi").click()
    page.wait_for_selector("#review-message:not([hidden])")
    assert "Laporan Intimidasi" in page.text_content("#review-message")
    assert "diverifikasi" in page.text_content("#review-message")
    assert status(engine, ident)[0] == "verified"
