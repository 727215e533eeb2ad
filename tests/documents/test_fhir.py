"""FHIR R4 bundles of visits, read back from the records the way ``kiosk export`` reads them.

Visits are written with the repository (answers per form, scores and flags from the real forms,
a signed consent and a stored PDF), collected with ``collect_visits`` and turned into bundles.
Every resource is checked with the ``fhir.resources`` R4B models. Patients are synthetic.
"""

from __future__ import annotations

import base64
import csv
import dataclasses
import datetime as dt
import hashlib
import io
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class

from kiosk.app.synthetic import SYNTHETIC_ANSWERS
from kiosk.documents.csv_export import flags_csv
from kiosk.documents.fhir import (
    FLAG_DECISION,
    FLAG_DECISION_NOTE,
    FLAG_RETRACTED,
    LOINC,
    FhirExportError,
    bundle_json,
    validate,
    visit_bundle,
)
from kiosk.domain.export_model import ExportedVisit
from kiosk.domain.model import AnswerValue, ItemType, Packet
from kiosk.domain.records import FlagDecision
from kiosk.domain.scoring import score_form, score_forms
from kiosk.domain.signature import DrawnSignature
from kiosk.domain.visit import Signing
from kiosk.storage import console, repository
from kiosk.storage.db import Database, open_database
from kiosk.storage.export_data import collect_visits
from tests.conftest import CLINIC_TIME

PATIENT = "Ximena Synthetica Ibáñez"
PDF = b"%PDF-1.7\n% synthetic sealed consent for tests\n" + bytes(range(256)) * 4
EXPORTED_AT = CLINIC_TIME + dt.timedelta(days=3)
ITEM9_ANSWERED = {"phq9_9": 1}  # raises the urgent phq9_item9 flag


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_database(f"sqlite:///{tmp_path / 'kiosk.sqlite3'}")
    yield database
    database.dispose()


def add_visit(
    db: Database,
    packet: Packet,
    *,
    name: str = PATIENT,
    answers: Mapping[str, AnswerValue] | None = None,
    language: str = "en",
    signed: bool = True,
) -> str:
    """A visit written as the kiosk writes one: answers per form, scores and flags, and (when
    ``signed``) the consent with its attestations and a stored PDF. Returns the visit id."""
    given = {**SYNTHETIC_ANSWERS, **ITEM9_ANSWERED, "patient_name": name, **(answers or {})}
    with db.begin() as session:
        visit_id = repository.start_visit(
            session, packet=packet, language=language, kiosk_id="lobby-2", now=CLINIC_TIME
        )
        for form in packet.forms:
            page = {item.id: given[item.id] for item in form.items if item.id in given}
            repository.save_answers(
                session, visit_id, form=form, answers=page, removed=(), now=CLINIC_TIME
            )
        repository.set_identity(
            session, visit_id, name=name, birth_date=str(given.get("birth_date", ""))
        )
        repository.save_scores(session, visit_id, score_forms(packet.forms, given), CLINIC_TIME)
        if signed:
            attestations: dict[str, AnswerValue] = {
                item.id: True if item.type is ItemType.AGREE else item.choices[0].value
                for item in packet.consent.attestations
            }
            consent = repository.record_consent(
                session,
                visit_id,
                consent=packet.consent,
                language=language,
                signing=Signing(
                    signer_name=name,
                    signed_at=CLINIC_TIME,
                    signature=DrawnSignature((((1.0, 1.0), (9.0, 4.0)),), 100, 40, b"\x89PNG"),
                    text_sha256="cd" * 32,
                    statement="I agree.",
                    meaning="Patient's consent to treatment",
                    attestations=attestations,
                ),
                now=CLINIC_TIME,
            )
            repository.store_document(
                session, visit_id, content=PDF, now=CLINIC_TIME, consent_id=consent.id
            )
    return visit_id


def exported(db: Database, packet: Packet) -> list[ExportedVisit]:
    with db.begin() as session:
        return collect_visits(session, packet)


def resources(bundle: Mapping[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def codes(concept: Mapping[str, Any]) -> set[tuple[str, str]]:
    return {(c["system"], c["code"]) for c in concept.get("coding", [])}


@pytest.fixture
def signed_bundle(db: Database, packet: Packet) -> dict[str, Any]:
    add_visit(db, packet)
    (visit,) = exported(db, packet)
    return visit_bundle(visit, now=EXPORTED_AT)


def test_every_resource_is_valid_r4(signed_bundle: dict[str, Any]) -> None:
    """The bundle, and each entry on its own, parse with the R4B models (same as R4 here)."""
    get_fhir_model_class("Bundle").model_validate(signed_bundle)
    for entry in signed_bundle["entry"]:
        resource = entry["resource"]
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        assert entry["fullUrl"].startswith("urn:uuid:")
    assert signed_bundle["type"] == "collection"
    kinds = [e["resource"]["resourceType"] for e in signed_bundle["entry"]]
    assert kinds[0] == "Patient"
    assert kinds.count("Consent") == 1
    assert kinds.count("Observation") == 5  # PHQ-9, PHQ-2, GAD-7, GAD-2, PEG
    assert kinds.count("QuestionnaireResponse") == kinds.count("Questionnaire") == 9  # + consent
    assert "Flag" in kinds
    # Written as plain R4 JSON that reads back the same.
    assert json.loads(bundle_json(signed_bundle)) == signed_bundle


def test_every_reference_points_into_the_bundle(signed_bundle: dict[str, Any]) -> None:
    full_urls = {entry["fullUrl"] for entry in signed_bundle["entry"]}
    references: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("reference"), str):
                references.append(node["reference"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(signed_bundle)
    assert references
    assert set(references) <= full_urls


def test_patient_has_the_name_birth_date_and_document_number(
    db: Database, packet: Packet, signed_bundle: dict[str, Any]
) -> None:
    (patient,) = resources(signed_bundle, "Patient")
    (visit,) = exported(db, packet)
    assert patient["name"] == [{"text": PATIENT}]
    assert patient["birthDate"] == SYNTHETIC_ANSWERS["birth_date"]
    assert patient["identifier"] == [
        {"system": "urn:kiosk:document", "value": visit.document_number}
    ]
    assert signed_bundle["identifier"]["value"] == visit.document_number


def test_score_observations_carry_their_loinc_codes_values_and_bands(
    signed_bundle: dict[str, Any], packet: Packet
) -> None:
    observations = {
        next(iter(codes(o["code"])))[1]: o for o in resources(signed_bundle, "Observation")
    }
    phq9 = observations["44261-6"]
    report = score_form(packet.form("phq9"), {**SYNTHETIC_ANSWERS, **ITEM9_ANSWERED})
    total = int(report.scores[0].value)
    assert phq9["valueQuantity"] == {
        "value": total,
        "unit": "{score}",
        "system": "http://unitsofmeasure.org",
        "code": "{score}",
    }
    assert phq9["status"] == "final"
    assert phq9["interpretation"][0]["text"] == "Mild"
    assert phq9["code"]["text"] == "PHQ-9 total score"
    assert "70274-6" in observations  # GAD-7 total
    assert "55758-7" in observations  # PHQ-2 total
    peg = observations["91147-9"]  # a mean: decimals kept
    assert peg["valueQuantity"]["value"] == pytest.approx((7 + 6 + 6) / 3)
    assert "interpretation" not in peg  # the PEG has no bands
    gad2 = observations["gad2_total"]  # no LOINC code exists for the GAD-2: a local code
    assert codes(gad2["code"]) == {("urn:kiosk:score", "gad2_total")}
    for observation in observations.values():
        assert observation["category"][0]["coding"][0]["code"] == "survey"
        assert observation["derivedFrom"][0]["reference"].startswith("urn:uuid:")
    loinc_of_scores = {r.loinc for f in packet.forms for r in f.scores if r.loinc}
    assert loinc_of_scores <= set(observations)


def test_questionnaires_carry_item_loinc_and_responses_answer_with_loinc_codes(
    signed_bundle: dict[str, Any],
) -> None:
    questionnaires = {q["url"]: q for q in resources(signed_bundle, "Questionnaire")}
    phq9 = questionnaires["urn:kiosk:form:phq9"]
    assert phq9["version"] == "1"
    assert phq9["code"] == [{"system": LOINC, "code": "44249-1"}]
    questions = {q["linkId"]: q for q in phq9["item"]}
    assert codes({"coding": questions["phq9_1"]["code"]}) == {(LOINC, "44250-9")}
    assert questions["phq9_1"]["type"] == "choice"
    assert {o["valueCoding"]["code"] for o in questions["phq9_1"]["answerOption"]} == {
        "LA6568-5",
        "LA6569-3",
        "LA6570-1",
        "LA6571-9",
    }
    assert questionnaires["urn:kiosk:form:gad7"]["code"] == [{"system": LOINC, "code": "69737-5"}]
    assert questionnaires["urn:kiosk:form:peg"]["code"] == [{"system": LOINC, "code": "91148-7"}]

    responses = {r["questionnaire"]: r for r in resources(signed_bundle, "QuestionnaireResponse")}
    answers = {i["linkId"]: i["answer"] for i in responses["urn:kiosk:form:phq9|1"]["item"]}
    item9 = answers["phq9_9"][0]["valueCoding"]
    assert (item9["system"], item9["code"], item9["display"]) == (LOINC, "LA6569-3", "Several days")
    # The points travel with the LOINC answer code on scored items...
    assert item9["extension"] == [
        {"url": "http://hl7.org/fhir/StructureDefinition/ordinalValue", "valueDecimal": 1}
    ]
    difficulty = answers["phq9_difficulty"][0]["valueCoding"]
    assert (difficulty["code"], "extension" in difficulty) == ("LA6573-5", False)
    # ...and not on choices whose numbers are not points (pain duration in months).
    pain = {i["linkId"]: i["answer"] for i in responses["urn:kiosk:form:pain_history|1"]["item"]}
    duration = pain["pain_duration"][0]["valueCoding"]
    assert duration["system"] == "urn:kiosk:form:pain_history:pain_duration"
    assert "extension" not in duration
    assert pain["pain_now"] == [{"valueInteger": 7}]
    assert {a["valueCoding"]["code"] for a in pain["pain_areas"]} == {"arms", "hands"}
    peg = {i["linkId"]: i["answer"] for i in responses["urn:kiosk:form:peg|1"]["item"]}
    assert peg["peg_pain"] == [{"valueInteger": 7}]


def test_response_values_are_typed_and_list_rows_are_repeated_groups(
    signed_bundle: dict[str, Any],
) -> None:
    responses = {r["questionnaire"]: r for r in resources(signed_bundle, "QuestionnaireResponse")}
    intake = {i["linkId"]: i for i in responses["urn:kiosk:form:intake|2"]["item"]}
    assert intake["patient_name"]["answer"] == [{"valueString": PATIENT}]
    assert intake["birth_date"]["answer"] == [{"valueDate": "1961-03-05"}]
    assert intake["has_driver"]["answer"] == [{"valueBoolean": True}]
    medicines = responses["urn:kiosk:form:medicines|1"]["item"]
    rows = [i for i in medicines if i["linkId"] == "current_medicines"]
    assert len(rows) == 2
    first = {i["linkId"]: i["answer"] for i in rows[0]["item"]}
    assert first["current_medicines.name"] == [{"valueString": "Gabapentin"}]
    consent = responses["urn:kiosk:consent:ketamine_consent|2"]
    attested = {i["linkId"]: i["answer"] for i in consent["item"]}
    assert attested["attest_read"] == [{"valueBoolean": True}]
    for response in responses.values():
        assert response["status"] == "completed"


def test_flags_have_their_priority_and_wording(signed_bundle: dict[str, Any]) -> None:
    flags = {next(iter(codes(f["code"])))[1]: f for f in resources(signed_bundle, "Flag")}
    item9 = flags["phq9_item9"]
    assert item9["status"] == "active"
    assert item9["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] == "PH"
    assert "item 9" in item9["code"]["text"]


def test_decisions_and_retractions_are_carried_in_valid_flags(db: Database, packet: Packet) -> None:
    """A flag acknowledged with a decision is inactive, with the decision, its note, who and
    when; a flag whose answer changed keeps its retraction time and stays active. The CSV
    carries the same."""
    # still a draft: only a draft's answers (and so its flags) may change
    anxious = {"gad7_1": 3, "gad7_2": 3, "gad7_3": 3, "gad7_4": 3}
    visit_id = add_visit(db, packet, answers=anxious, signed=False)
    later = CLINIC_TIME + dt.timedelta(minutes=3)
    calm = {**SYNTHETIC_ANSWERS, **ITEM9_ANSWERED}  # GAD-7 back under its flag
    with db.begin() as session:
        gad7 = packet.form("gad7")
        repository.save_scores(session, visit_id, [score_form(gad7, calm)], later, answers=calm)
        assert console.acknowledge_flag(
            session,
            visit_id,
            "phq9_item9",
            staff_id="dr.chen",
            decision=FlagDecision.REFER,
            note="Referred to the crisis team.",
            device="front-desk",
            now=later,
        )
    (visit,) = exported(db, packet)
    bundle = visit_bundle(visit, now=EXPORTED_AT)
    flags = {next(iter(codes(f["code"])))[1]: f for f in resources(bundle, "Flag")}
    for flag in flags.values():
        get_fhir_model_class("Flag").model_validate(flag)
    item9 = flags["phq9_item9"]
    assert item9["status"] == "inactive"
    utc = {"start": CLINIC_TIME.astimezone(dt.UTC), "end": later.astimezone(dt.UTC)}
    assert item9["period"] == {k: v.isoformat(timespec="seconds") for k, v in utc.items()}
    assert item9["author"] == {"display": "staff dr.chen"}
    extensions = {e["url"]: e for e in item9["extension"]}
    decision = extensions[FLAG_DECISION]["valueCodeableConcept"]
    assert codes(decision) == {(FLAG_DECISION, "refer")} and decision["text"] == "Refer"
    assert extensions[FLAG_DECISION_NOTE]["valueString"] == "Referred to the crisis team."
    gad = flags["gad7_moderate_or_worse"]
    assert gad["status"] == "active"  # retracted, but nobody has seen it yet
    retracted = {e["url"]: e for e in gad["extension"]}[FLAG_RETRACTED]
    assert retracted["valueDateTime"] == utc["end"].isoformat(timespec="seconds")

    rows = list(csv.DictReader(io.StringIO(flags_csv([visit]).decode("utf-8-sig"))))
    by_id = {row["flag_id"]: row for row in rows}
    assert (by_id["phq9_item9"]["decision"], by_id["phq9_item9"]["note"]) == (
        "refer",
        "Referred to the crisis team.",
    )
    assert by_id["phq9_item9"]["acknowledged_by"] == "dr.chen"
    assert by_id["gad7_moderate_or_worse"]["retracted_at_utc"] != ""
    assert by_id["gad7_moderate_or_worse"]["decision"] == ""


def test_consent_carries_the_pdf_and_its_hash(
    db: Database, packet: Packet, signed_bundle: dict[str, Any]
) -> None:
    (consent,) = resources(signed_bundle, "Consent")
    (visit,) = exported(db, packet)
    assert consent["status"] == "active"
    assert codes(consent["scope"]) == {
        ("http://terminology.hl7.org/CodeSystem/consentscope", "treatment")
    }
    assert codes(consent["category"][0]) == {(LOINC, "59284-0")}
    assert consent["patient"]["reference"] == signed_bundle["entry"][0]["fullUrl"]
    assert consent["policy"] == [{"uri": "urn:kiosk:consent:ketamine_consent|2"}]
    # The moment of signing with the kiosk's UTC offset, as printed on the PDF.
    assert consent["dateTime"] == CLINIC_TIME.isoformat(timespec="seconds")
    attachment = consent["sourceAttachment"]
    data = base64.b64decode(attachment["data"], validate=True)
    assert data == PDF
    assert visit.consent_pdf is not None
    assert hashlib.sha256(data).hexdigest() == visit.consent_pdf.sha256
    assert attachment["hash"] == base64.b64encode(hashlib.sha1(PDF).digest()).decode()
    assert attachment["size"] == len(PDF)
    assert attachment["contentType"] == "application/pdf"
    assert visit.document_number in attachment["title"]
    assert not any(word in attachment["title"] for word in PATIENT.split())


def test_a_draft_is_in_progress_and_has_no_consent(db: Database, packet: Packet) -> None:
    add_visit(db, packet, signed=False)
    (visit,) = exported(db, packet)
    bundle = visit_bundle(visit, now=EXPORTED_AT)
    assert not resources(bundle, "Consent")
    assert {r["status"] for r in resources(bundle, "QuestionnaireResponse")} == {"in-progress"}
    assert {o["status"] for o in resources(bundle, "Observation")} == {"preliminary"}


def test_spanish_visit_keeps_the_questions_it_was_asked_in(db: Database, packet: Packet) -> None:
    """Responses carry the Spanish the patient read; the questionnaire is the same English
    definition (same id) in every bundle, so a server stores it once."""
    add_visit(db, packet, language="es")
    add_visit(db, packet, name="Otra Paciente Sintética", language="en")
    bundles = {v.language: visit_bundle(v, now=EXPORTED_AT) for v in exported(db, packet)}
    spanish, english = bundles["es"], bundles["en"]
    phq9 = packet.form("phq9")
    response = next(
        r for r in resources(spanish, "QuestionnaireResponse") if "phq9|" in r["questionnaire"]
    )
    assert response["language"] == "es"
    assert response["item"][0]["text"] == phq9.items[0].text.get("es")
    (patient,) = resources(spanish, "Patient")
    assert patient["communication"][0]["language"]["coding"][0]["code"] == "es"
    questionnaires = [
        {e["fullUrl"]: e["resource"] for e in bundle["entry"]} for bundle in (spanish, english)
    ]
    shared = {
        url: resource
        for url, resource in questionnaires[0].items()
        if resource["resourceType"] == "Questionnaire"
    }
    assert len(shared) == 9
    assert all(questionnaires[1][url] == resource for url, resource in shared.items())
    definition = next(q for q in shared.values() if q["url"].endswith(":phq9"))
    assert (definition["language"], definition["title"]) == ("en", phq9.title.get("en"))
    option = definition["item"][0]["answerOption"][1]["valueCoding"]
    assert option["display"] == "Several days"  # LOINC's display, in English


def test_answers_from_a_form_version_no_longer_shipped_are_exported_as_stored(
    db: Database, packet: Packet
) -> None:
    """The packet describes only its current versions: an older version's answers keep their
    values but get no questionnaire and no LOINC codes the kiosk could not vouch for."""
    older = dataclasses.replace(packet.form("phq9"), version=0)
    with db.begin() as session:
        visit_id = repository.start_visit(
            session, packet=packet, language="en", kiosk_id="k", now=CLINIC_TIME
        )
        repository.save_answers(
            session,
            visit_id,
            form=older,
            answers={"phq9_1": 2, "phq9_difficulty": "very"},
            removed=(),
            now=CLINIC_TIME,
        )
    (visit,) = exported(db, packet)
    (form,) = visit.forms
    assert (form.form_id, form.version, form.definition_known) == ("phq9", 0, False)
    assert all(answer.loinc is None for answer in form.answers)
    bundle = visit_bundle(visit, now=EXPORTED_AT)
    assert not resources(bundle, "Questionnaire")
    (response,) = resources(bundle, "QuestionnaireResponse")
    assert response["questionnaire"] == "urn:kiosk:form:phq9|0"
    assert {i["linkId"]: i["answer"] for i in response["item"]} == {
        "phq9_1": [{"valueInteger": 2}],
        "phq9_difficulty": [{"valueString": "very"}],
    }


def test_exporting_again_gives_the_same_resource_ids(db: Database, packet: Packet) -> None:
    add_visit(db, packet)
    first = visit_bundle(exported(db, packet)[0], now=EXPORTED_AT)
    again = visit_bundle(exported(db, packet)[0], now=EXPORTED_AT + dt.timedelta(hours=1))
    assert [e["fullUrl"] for e in first["entry"]] == [e["fullUrl"] for e in again["entry"]]
    assert len({e["fullUrl"] for e in first["entry"]}) == len(first["entry"])


def test_an_invalid_resource_is_refused_without_showing_patient_data(
    db: Database, packet: Packet
) -> None:
    add_visit(db, packet)
    (visit,) = exported(db, packet)
    broken = dataclasses.replace(visit, birth_date="05/03/1961")
    with pytest.raises(FhirExportError) as caught:
        visit_bundle(broken, now=EXPORTED_AT)
    message = str(caught.value)
    assert "Patient.birthDate (entry 0)" in message
    assert "05/03/1961" not in message
    assert not any(word in message for word in PATIENT.split())
    with pytest.raises(FhirExportError, match="not an R4 resource type"):
        validate({"resourceType": "NoSuchThing"})
