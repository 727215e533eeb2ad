"""One visit as a FHIR R4 ``Bundle`` (type ``collection``), checked before it is written.

A bundle holds, for one visit:

- a ``Patient``: the name and date of birth as given, the visit's document number as identifier;
- per form answered, a ``Questionnaire`` (the exact version the patient answered, in English,
  LOINC codes on the form and its items; the same resource and id in every bundle) and the
  ``QuestionnaireResponse`` with the answers and the question texts in the language the patient
  read them in; choices with a LOINC answer code are answered with that code. In R4 a
  response item has no ``code`` of its own: the item's LOINC code lives on the questionnaire item
  with the same ``linkId``. Answers given in a form version the packet no longer has are exported
  as stored, with no questionnaire (the kiosk cannot describe a version it no longer holds);
- per score, an ``Observation`` (LOINC code when the form declares one, the value as a
  ``{score}`` quantity, the band as interpretation);
- per red flag, a ``Flag`` with its priority;
- for a signed visit, a ``Consent`` (scope treatment, category LOINC 59284-0) whose
  ``sourceAttachment`` is the sealed consent PDF itself, with its SHA-1 as FHIR asks.

The bundle is built as plain JSON data and then validated with the ``fhir.resources`` models for
FHIR 4.3 (R4B): the installed ``fhir.resources`` 8 defaults to R5, whose Consent and Questionnaire
differ from R4; R4B is the same as R4 for every resource written here. Pydantic models check
types, cardinality and value formats but not FHIRPath invariants, so those that apply are kept by
construction and named in comments (e.g. ppc-1, ppc-5 on Consent).

Resource ids are ``urn:uuid:`` UUIDs derived from the visit id, so exporting the same visit again
gives the same ids and a receiving server can recognise what it already has.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, TypeGuard, assert_never

from pydantic import ValidationError

from kiosk.domain.console import RaisedFlag
from kiosk.domain.export_model import (
    ExportedAnswer,
    ExportedForm,
    ExportedScore,
    ExportedVisit,
)
from kiosk.domain.model import AnswerValue, Choice, Item, ItemType, Row
from kiosk.domain.records import VisitStatus

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
DOCUMENT_SYSTEM = "urn:kiosk:document"  # the visit's printed document number, e.g. KC-1A2B3C4D
SCORE_SYSTEM = "urn:kiosk:score"  # a score rule id, for scores without a LOINC code
FLAG_SYSTEM = "urn:kiosk:flag"  # a flag rule id
FLAG_DECISION = "urn:kiosk:flag-decision"  # the clinician's decision on acknowledging a flag
FLAG_DECISION_NOTE = "urn:kiosk:flag-decision-note"
FLAG_RETRACTED = "urn:kiosk:flag-retracted"  # when a changed answer stopped meeting the rule
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
FLAG_CATEGORY = "http://terminology.hl7.org/CodeSystem/flag-category"
FLAG_PRIORITY = "http://hl7.org/fhir/StructureDefinition/flag-priority"
FLAG_PRIORITY_CODES = "http://hl7.org/fhir/flag-priority-code"
ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
CONSENT_DOCUMENT_LOINC = "59284-0"

_NAMESPACE = uuid.UUID("4f0d6a52-6f1b-5a0e-9c4e-6b696f736b21")  # fixed: ids must not change
_PRIORITY = {
    "urgent": ("PH", "High priority"),
    "review": ("PM", "Medium priority"),
    "info": ("PL", "Low priority"),
}
LONG_TEXT = 200  # text items allowing more than this are FHIR "text" (multi-line) items

Resource = dict[str, Any]


class FhirExportError(ValueError):
    """A resource failed validation: a fault in this exporter, not in the records.

    The message names the resource and the element, never a value (values are patient data).
    """


def canonical(form: ExportedForm) -> str:
    """The form's canonical URL without version, e.g. ``urn:kiosk:form:phq9``."""
    kind = "consent" if form.is_consent else "form"
    return f"urn:kiosk:{kind}:{form.form_id}"


def visit_bundle(visit: ExportedVisit, *, now: dt.datetime) -> Resource:
    """The visit as a validated FHIR R4 collection bundle.

    Args:
        visit: The visit to export.
        now: The export's moment (aware), the bundle's timestamp.

    Returns:
        The bundle as JSON-ready data.

    Raises:
        FhirExportError: A built resource is not valid FHIR (a bug here; nothing is written).
    """
    patient_ref = _ref(visit, "Patient")
    entries: list[tuple[str, Resource]] = [(patient_ref, _patient(visit))]
    responses: dict[str, str] = {}
    for form in visit.forms:
        if not form.answers:
            continue
        if form.definition_known:
            entries.append((_questionnaire_ref(form), _questionnaire(form)))
        response_ref = _ref(visit, "QuestionnaireResponse", form)
        responses[form.form_id] = response_ref
        entries.append((response_ref, _response(form, visit, patient_ref)))
    for score in visit.scores:
        entries.append(
            (
                _ref(visit, "Observation", key=score.rule_id),
                _observation(score, visit, patient_ref, responses.get(score.form_id)),
            )
        )
    for flag in visit.flags:
        entries.append((_ref(visit, "Flag", key=flag.rule_id), _flag(flag, patient_ref)))
    if visit.consent is not None:
        entries.append((_ref(visit, "Consent"), _consent(visit, patient_ref)))
    bundle: Resource = {
        "resourceType": "Bundle",
        "identifier": {"system": DOCUMENT_SYSTEM, "value": visit.document_number},
        "type": "collection",
        "timestamp": _instant(now),
        "entry": [{"fullUrl": url, "resource": resource} for url, resource in entries],
    }
    validate(bundle)
    return bundle


def bundle_json(bundle: Mapping[str, Any]) -> bytes:
    """The bundle as UTF-8 JSON text (names and answers kept readable, not \\u-escaped)."""
    return (json.dumps(bundle, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def validate(resource: Mapping[str, Any]) -> None:
    """Check ``resource`` (any R4 resource, a bundle with its entries included) against the
    ``fhir.resources`` R4B models.

    Raises:
        FhirExportError: It is not valid; the message lists elements and problems, not values.
    """
    from fhir.resources.R4B import get_fhir_model_class  # ~0.25 s: only when exporting

    kind = str(resource.get("resourceType", ""))
    try:
        model = get_fhir_model_class(kind)
    except ValueError:
        raise FhirExportError(f"'{kind}' is not an R4 resource type") from None
    try:
        model.model_validate(dict(resource))
    except ValidationError as exc:
        problems = "; ".join(
            f"{_element(resource, error['loc'])}: {error['msg']}"
            for error in exc.errors(include_input=False, include_url=False)
        )
        raise FhirExportError(f"the exported {kind} is not valid FHIR R4: {problems}") from None


def _element(resource: Mapping[str, Any], location: Sequence[int | str]) -> str:
    """``entry.3.resource.code`` → ``Observation.code`` (entry 3), for readable errors."""
    path = ".".join(str(part) for part in location)
    if len(location) >= 3 and location[0] == "entry" and location[2] == "resource":
        entries = resource.get("entry") or []
        index = location[1]
        if isinstance(index, int) and index < len(entries):
            kind = entries[index].get("resource", {}).get("resourceType", "?")
            inner = ".".join(str(part) for part in location[3:])
            return f"{kind}.{inner} (entry {index})"
    return path


# --- resources ------------------------------------------------------------------------------------


def _ref(visit: ExportedVisit, kind: str, form: ExportedForm | None = None, key: str = "") -> str:
    form_key = f"{canonical(form)}|{form.version}" if form else ""
    name = f"{visit.visit_id}/{kind}/{form_key}/{key}"
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, name)}"


def _questionnaire_ref(form: ExportedForm) -> str:
    """The same in every bundle: one form version is one questionnaire, whoever answered it."""
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'Questionnaire/{canonical(form)}|{form.version}')}"


def _patient(visit: ExportedVisit) -> Resource:
    patient: Resource = {
        "resourceType": "Patient",
        "identifier": [{"system": DOCUMENT_SYSTEM, "value": visit.document_number}],
    }
    if visit.patient_name.strip():
        # As the patient typed it: the kiosk never splits a name into given and family parts.
        patient["name"] = [{"text": visit.patient_name}]
    if visit.birth_date:
        patient["birthDate"] = visit.birth_date
    patient["communication"] = [
        {"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": visit.language}]}}
    ]
    return patient


def _questionnaire(form: ExportedForm) -> Resource:
    """The form's definition, in English whatever the patient's language, so that every bundle
    carries the same resource for one form version (the responses keep the words the patient
    read)."""
    questionnaire: Resource = {
        "resourceType": "Questionnaire",
        "language": "en",
        "url": canonical(form),
        "version": str(form.version),
        "status": "active",
    }
    if form.title is not None:
        questionnaire["title"] = form.title.get("en")
    if form.loinc:
        questionnaire["code"] = [{"system": LOINC, "code": form.loinc}]
    if form.copyright:
        questionnaire["copyright"] = form.copyright
    questionnaire["item"] = [_question(form, item, "en") for item in form.items]
    return questionnaire


def questionnaire_item_type(item: Item) -> str:
    """The FHIR R4 Questionnaire ``item.type`` that asks ``item`` (mypy checks every type has one).

    A phone number is a "string": FHIR has no phone type, and the kiosk stores it as text.
    """
    match item.type:
        case ItemType.TEXT:
            return "text" if item.max_length > LONG_TEXT else "string"
        case ItemType.PHONE:
            return "string"
        case ItemType.DATE:
            return "date"
        case ItemType.SINGLE_CHOICE | ItemType.MULTI_CHOICE:
            return "choice"
        case ItemType.YES_NO | ItemType.AGREE:
            return "boolean"
        case ItemType.SCALE:
            return "integer"
        case ItemType.LIST:
            return "group"
        case _ as unreachable:
            assert_never(unreachable)


def _question(form: ExportedForm, item: Item, language: str) -> Resource:
    kind = questionnaire_item_type(item)
    question: Resource = {"linkId": item.id}
    if item.loinc:
        question["code"] = [{"system": LOINC, "code": item.loinc}]
    # No "required": the kiosk's show-if conditions are not exported (they are kiosk data, not
    # FHIR enableWhen), so a question asked only after some answers would look wrongly skipped.
    question |= {"text": item.text.get(language), "type": kind}
    if item.type in (ItemType.MULTI_CHOICE, ItemType.LIST):
        question["repeats"] = True
    if item.type is ItemType.TEXT:
        question["maxLength"] = item.max_length
    if item.type is ItemType.SCALE:
        question["extension"] = [
            {"url": MIN_VALUE, "valueInteger": item.minimum},
            {"url": MAX_VALUE, "valueInteger": item.maximum},
        ]
    if item.choices:
        question["answerOption"] = [
            {"valueCoding": _choice_coding(form, item, choice)} for choice in item.choices
        ]
    if item.type is ItemType.LIST:
        question["item"] = [
            {
                "linkId": f"{item.id}.{column.id}",
                "text": column.text.get(language),
                "type": "string",
                "maxLength": column.max_length,
            }
            for column in item.columns
        ]
    return question


def _choice_coding(form: ExportedForm, item: Item, choice: Choice) -> Resource:
    """A choice as a Coding: its LOINC answer code when it has one, else the kiosk's own value
    in a code system per item (two items may use the same value for different things)."""
    if choice.code:
        coding: Resource = {"system": LOINC, "code": choice.code}
    else:
        coding = {"system": f"{canonical(form)}:{item.id}", "code": str(choice.value)}
    # English: LOINC's displays are English, and the clinical record is kept in English.
    coding["display"] = choice.label.get("en")
    if item.id in form.scored_items and isinstance(choice.value, int):
        # The points (0-3 on the PHQ-9), which a LOINC answer code alone does not carry.
        coding["extension"] = [{"url": ORDINAL_VALUE, "valueDecimal": choice.value}]
    return coding


def _response(form: ExportedForm, visit: ExportedVisit, patient_ref: str) -> Resource:
    items = {item.id: item for item in form.items}
    answered = [a for a in form.answers if not _empty(a.value)]
    response: Resource = {
        "resourceType": "QuestionnaireResponse",
        "language": visit.language,  # the item texts are the ones the patient read
        "questionnaire": f"{canonical(form)}|{form.version}",
        # A draft's answers may still change: FHIR calls that "in-progress".
        "status": "in-progress" if visit.status == VisitStatus.DRAFT else "completed",
        "subject": {"reference": patient_ref},
    }
    if answered:
        response["authored"] = _instant(max(a.answered_at for a in answered))
    response["author"] = {"reference": patient_ref}  # the patient answered on the kiosk
    response["item"] = [
        entry
        for answer in answered
        for entry in _response_items(form, items.get(answer.item_id), answer, visit.language)
    ]
    return response


def _response_items(
    form: ExportedForm, item: Item | None, answer: ExportedAnswer, language: str
) -> list[Resource]:
    """The response item(s) for one answer: one item, or one group per row of a list."""
    value = answer.value
    text = {"text": item.text.get(language)} if item is not None else {}
    if _is_rows(value):
        # A repeating group in R4 is the same linkId once per row, each with the row's fields.
        columns = {c.id: c for c in item.columns} if item is not None else {}
        groups = []
        for row in value:
            fields: list[Resource] = []
            for key, field in row.items():
                if not field.strip():
                    continue
                entry: Resource = {"linkId": f"{answer.item_id}.{key}"}
                if key in columns:
                    entry["text"] = columns[key].text.get(language)
                entry["answer"] = [{"valueString": field}]
                fields.append(entry)
            if fields:
                groups.append({"linkId": answer.item_id, **text, "item": fields})
        return groups
    answers = _answers(form, item, value)
    return [{"linkId": answer.item_id, **text, "answer": answers}] if answers else []


def _answers(form: ExportedForm, item: Item | None, value: AnswerValue) -> list[Resource]:
    """The answer values, typed by the item when its definition is known, else by the value."""
    if item is not None:
        values = value if isinstance(value, tuple) else (value,)
        choices = [item.choice(v) for v in values]
        if item.choices and all(choices):
            return [
                {"valueCoding": _choice_coding(form, item, choice)}
                for choice in choices
                if choice is not None
            ]
        if item.type is ItemType.DATE and isinstance(value, str):
            return [{"valueDate": value}]
    values = value if isinstance(value, tuple) else (value,)
    return [
        _plain_answer(v)
        for v in values
        if not isinstance(v, Mapping) and not (isinstance(v, str) and not v.strip())
    ]


def _plain_answer(value: str | int | bool) -> Resource:
    if isinstance(value, bool):
        return {"valueBoolean": value}
    if isinstance(value, int):
        return {"valueInteger": value}
    return {"valueString": value}


def _observation(
    score: ExportedScore, visit: ExportedVisit, patient_ref: str, response_ref: str | None
) -> Resource:
    coding = (
        {"system": LOINC, "code": score.loinc}
        if score.loinc
        else {"system": SCORE_SYSTEM, "code": score.rule_id}
    )
    value: float | int = int(score.value) if score.value.is_integer() else score.value
    observation: Resource = {
        "resourceType": "Observation",
        # A draft's score may change as the patient goes on answering.
        "status": "preliminary" if visit.status == VisitStatus.DRAFT else "final",
        "category": [
            {"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}]}
        ],
        "code": {"coding": [coding], "text": score.label},
        "subject": {"reference": patient_ref},
        "effectiveDateTime": _instant(score.computed_at),
        "valueQuantity": {"value": value, "unit": "{score}", "system": UCUM, "code": "{score}"},
    }
    if score.band:
        # The band is the form's own (e.g. PHQ-9 "moderate"); HL7's interpretation codes (high,
        # low, abnormal…) do not say it, and the binding is extensible, so it is coded locally.
        observation["interpretation"] = [
            {
                "coding": [
                    {
                        "system": f"{SCORE_SYSTEM}:{score.rule_id}:band",
                        "code": score.band,
                        "display": score.band_label or score.band,
                    }
                ],
                "text": score.band_label or score.band,
            }
        ]
    if response_ref is not None:
        observation["derivedFrom"] = [{"reference": response_ref}]
    return observation


def _flag(flag: RaisedFlag, patient_ref: str) -> Resource:
    """A raised flag: active until a clinician acknowledged it with a decision, then inactive,
    with the decision, who made it, and when (the period's end). A flag a changed answer no
    longer meets stays active until then, and says when it was retracted."""
    resource: Resource = {"resourceType": "Flag"}
    extensions: list[Resource] = []
    priority = _PRIORITY.get(flag.severity)
    if priority is not None:
        code, display = priority
        extensions.append(
            {
                "url": FLAG_PRIORITY,
                "valueCodeableConcept": {
                    "coding": [{"system": FLAG_PRIORITY_CODES, "code": code, "display": display}]
                },
            }
        )
    if flag.retracted_at is not None:
        extensions.append({"url": FLAG_RETRACTED, "valueDateTime": _instant(flag.retracted_at)})
    if flag.decision is not None:
        extensions.append(
            {
                "url": FLAG_DECISION,
                "valueCodeableConcept": {
                    "coding": [
                        {
                            "system": FLAG_DECISION,
                            "code": str(flag.decision),
                            "display": flag.decision_label,
                        }
                    ],
                    "text": flag.decision_label,
                },
            }
        )
    if flag.note:
        extensions.append({"url": FLAG_DECISION_NOTE, "valueString": flag.note})
    if extensions:
        resource["extension"] = extensions
    period = {"start": _instant(flag.raised_at)}
    if flag.acknowledged_at is not None:
        period["end"] = _instant(flag.acknowledged_at)
    resource |= {
        "status": "active" if flag.acknowledged_at is None else "inactive",
        "category": [
            {"coding": [{"system": FLAG_CATEGORY, "code": "clinical", "display": "Clinical"}]}
        ],
        "code": {"coding": [{"system": FLAG_SYSTEM, "code": flag.rule_id}], "text": flag.message},
        "subject": {"reference": patient_ref},
        "period": period,
    }
    if flag.acknowledged_by:
        resource["author"] = {"display": f"staff {flag.acknowledged_by}"}
    return resource


def _consent(visit: ExportedVisit, patient_ref: str) -> Resource:
    consent = visit.consent
    assert consent is not None
    resource: Resource = {
        "resourceType": "Consent",
        "identifier": [{"system": DOCUMENT_SYSTEM, "value": visit.document_number}],
        "status": "active",
        "scope": {
            "coding": [{"system": CONSENT_SCOPE, "code": "treatment", "display": "Treatment"}]
        },
        "category": [
            {
                "coding": [
                    {
                        "system": LOINC,
                        "code": CONSENT_DOCUMENT_LOINC,
                        "display": "Consent Document",
                    }
                ]
            }
        ],
        "patient": {"reference": patient_ref},  # ppc-5: a treatment consent names its patient
        "dateTime": consent.signed_at_local or _instant(consent.signed_at),
        "performer": [{"reference": patient_ref}],  # who agreed: the patient signed themselves
    }
    pdf = visit.consent_pdf
    if pdf is not None and pdf.content is not None:
        resource["sourceAttachment"] = {
            "contentType": pdf.content_type,
            "data": base64.b64encode(pdf.content).decode("ascii"),
            "size": len(pdf.content),
            # FHIR's Attachment.hash is the base64 SHA-1 of the data; the records' SHA-256 (what
            # `kiosk verify` checks) is recomputed from these very bytes by whoever needs it.
            "hash": base64.b64encode(hashlib.sha1(pdf.content).digest()).decode("ascii"),  # noqa: S324
            "title": f"Signed consent {visit.document_number}",
            "creation": _instant(pdf.created_at),
        }
    # ppc-1: a consent names the policy it agrees to. Here: the consent document and version
    # the patient read and signed.
    resource["policy"] = [{"uri": f"urn:kiosk:consent:{consent.document_id}|{consent.version}"}]
    resource["provision"] = {"type": "permit"}
    return resource


# --- values -------------------------------------------------------------------------------------


def _instant(moment: dt.datetime) -> str:
    if moment.utcoffset() is None:
        raise ValueError("naive datetimes are not exported; give a UTC offset")
    return moment.isoformat(timespec="seconds")


def _is_rows(value: AnswerValue) -> TypeGuard[tuple[Row, ...]]:
    return isinstance(value, tuple) and bool(value) and isinstance(value[0], Mapping)


def _empty(value: AnswerValue) -> bool:
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, tuple):
        return not any(_row_filled(v) if isinstance(v, Mapping) else str(v).strip() for v in value)
    return False


def _row_filled(row: Row) -> bool:
    return any(field.strip() for field in row.values())
