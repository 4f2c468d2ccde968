"""Regenerate resumebek/samples/student_resume.docx: a synthetic student resume (an
invented person; example.com contacts; a +7 700 000 .. .. test number) for the demo."""

from __future__ import annotations

from pathlib import Path

import docx
from docx.shared import Pt

OUT = Path(__file__).resolve().parent.parent / "resumebek" / "samples" / "student_resume.docx"


def main() -> None:
    doc = docx.Document()
    style = doc.styles["Normal"]
    style.font.name = "Calibri"
    style.font.size = Pt(11)
    doc.core_properties.author = "Resumebek sample"
    doc.add_heading("Dana Yermekova", level=1)
    doc.add_paragraph("Almaty, Kazakhstan | +7 700 000 12 34 | dana.yermekova@example.com")
    doc.add_heading("Summary", level=2)
    doc.add_paragraph(
        "Third-year Information Systems student looking for a summer internship in data "
        "analytics. Comfortable with SQL and Python, organised, and quick to learn new tools."
    )
    doc.add_heading("Education", level=2)
    doc.add_paragraph("Almaty Technical University (fictional), BSc Information Systems, 2023 – 2027")
    doc.add_paragraph("GPA 3.4/4.0; courses: Databases, Statistics, Business Analytics")
    doc.add_heading("Experience", level=2)
    doc.add_paragraph("Data entry intern, Steppe Retail LLP (fictional), Almaty — June 2025 – August 2025")
    doc.add_paragraph("Responsible for updating the product catalogue in Excel", style="List Bullet")
    doc.add_paragraph("Participated in the weekly stock count", style="List Bullet")
    doc.add_paragraph("Prepared a sales report for the store manager", style="List Bullet")
    doc.add_paragraph("Volunteer, university Open Doors Day — 2024")
    doc.add_paragraph("Helped with registration of 300 visiting school students", style="List Bullet")
    doc.add_heading("Skills", level=2)
    doc.add_paragraph("SQL (PostgreSQL), Python (pandas, basic), Excel (pivot tables), Power BI (basic)")
    doc.add_heading("Languages", level=2)
    doc.add_paragraph("Kazakh (native), Russian (fluent), English (B2)")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(OUT))
    print(OUT, OUT.stat().st_size)


if __name__ == "__main__":
    main()
