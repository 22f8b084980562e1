"""The words for the closed vocabularies a report shows (schemas/enums.py): priorities,
categories, request types, outcomes, reason codes, case states, and the kinds of deadline.

The values stay the wire format's (in the JSON report and the page's attributes); these
are their English labels, the msgids that the catalogs translate. `N_` only marks them
for `pybabel extract`. A value missing here is shown as it is: tests/exchange/reports/
test_i18n.py holds this table to the enumerations.
"""


def N_(message: str) -> str:  # noqa: N802 - the name pybabel extracts by convention
    return message


LABELS: dict[str, str] = {
    # Priority
    "urgent": N_("urgent"),
    "high": N_("high"),
    "normal": N_("normal"),
    # Category
    "csam": N_("child sexual abuse material"),
    "ncii": N_("non-consensual intimate images"),
    "sexual_deepfake": N_("sexual deepfake"),
    "sextortion": N_("sextortion"),
    "grooming": N_("grooming"),
    "illegal_filming": N_("illegal filming"),
    "drugs": N_("drugs"),
    "fraud": N_("fraud"),
    "terrorism": N_("terrorism"),
    "other": N_("other"),
    # RequestType
    "removal_order": N_("removal order"),
    "notice": N_("notice"),
    "referral": N_("referral"),
    "preservation_request": N_("preservation request"),
    "info_request": N_("information request"),
    # Outcome, and the report's other dispositions
    "actioned": N_("actioned"),
    "partially_actioned": N_("partially actioned"),
    "not_actioned": N_("not actioned"),
    "unable_to_locate": N_("unable to locate"),
    "already_unavailable": N_("already unavailable"),
    "rejected_invalid": N_("rejected as invalid"),
    "referred_to_regulator": N_("referred to the regulator"),
    "received": N_("received"),
    "under_legal_review": N_("under legal review"),
    "needs_information": N_("needs information"),
    "closed_unanswered": N_("closed unanswered"),
    "awaiting_response": N_("awaiting response"),
    # ReasonCode
    "not_illegal_in_jurisdiction": N_("not illegal in the jurisdiction"),
    "insufficient_information": N_("insufficient information"),
    "content_not_found": N_("content not found"),
    "already_removed": N_("already removed"),
    "outside_territorial_scope": N_("outside territorial scope"),
    "legal_basis_invalid": N_("legal basis invalid"),
    "disproportionate_request": N_("disproportionate request"),
    "technical_impossibility": N_("technical impossibility"),
    "pending_legal_review": N_("pending legal review"),
    # Case states (schemas.api.CASE_STATES; the final outcomes are above)
    "submitted": N_("submitted"),
    "delivered": N_("delivered"),
    "acknowledged": N_("acknowledged"),
    "needs_info": N_("information requested"),
    "supplemented": N_("supplemented"),
    "reopened": N_("reopened"),
    "withdrawn": N_("withdrawn"),
    "withdrawal_acknowledged": N_("withdrawal acknowledged"),
    "closed": N_("closed"),
    # Deadline verdicts
    "met": N_("met"),
    "missed": N_("missed"),
    "released": N_("released"),
    "pending": N_("pending"),
}

# The kinds of deadline (a missed deadline's `deadline`, `evidence.breach_entries`).
DEADLINES: dict[str, str] = {
    "ack": N_("acknowledgement"),
    "action": N_("action"),
    "withdrawal_ack": N_("withdrawal acknowledgement"),
    "reopened": N_("action after reopening"),
    "answer": N_("answer to a question"),
}
