"""What is known about real exports' headers: synonyms per canonical field, and presets
for the exports of known CRMs (how to recognise each, how its columns and stages map, and
what its "converted" flag means).

Data, mostly: `mapping` proposes from these tables; adding a CRM is adding a preset here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

NOT_A_STAGE = "(not a stage)"


# Pipedrive's 'Deal - Title', 'Lead - Created': the record kind before each header
CRM_PREFIX = re.compile(r"^(deal|lead|person|organization|contact|opportunity) - ",
                        re.IGNORECASE)


def normalise(header: str) -> str:
    """Header key for matching: lower-case letters and digits only, CRM prefixes removed."""
    h = CRM_PREFIX.sub("", header.strip())
    return re.sub(r"[^a-z0-9]", "", h.lower())


# Header synonyms per canonical field, already normalised. Order is preference.
SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "leads": {
        "lead_id": ("leadid", "recordid", "contactid", "prospectid", "mqlid", "id", "vid",
                    "personid", "customerid", "leadnumber"),
        "created_at": ("createdate", "createddate", "createdtime", "createdat", "created",
                       "datecreated", "leadcreated", "addtime", "creationdate", "leaddate",
                       "firstcontactdate", "firstcontact", "createdon"),
        "source": ("originalsource", "leadsource", "source", "channel", "originalsourcetype",
                   "utmsource", "sourcechannel", "contact", "acquisitionchannel", "origin"),
        "origin": ("leadorigin", "origin", "entrypoint", "conversionform", "signupform"),
        "segment": ("segment", "customersegment", "industry", "businesssegment", "companysize",
                    "tier", "job", "specialization", "whatisyourcurrentoccupation"),
        "owner": ("contactowner", "leadowner", "owner", "ownerid", "hubspotowner", "sdr",
                  "ownername", "assignedto"),
        "account": ("company", "companyname", "associatedcompany", "account", "accountname",
                    "organization"),
        "stage": ("lifecyclestage", "leadstatus", "status", "stage", "funnelstage"),
        "converted": ("converted", "isconverted", "becamecustomer", "won", "subscribed", "y",
                      "outcome"),
        "deal_id": ("convertedopportunityid", "converteddealid", "converteddeal",
                    "convertedpotential", "convertedpotentialid"),
        "lead_at": ("becamealeaddate", "leaddate"),
        "mql_at": ("becameamarketingqualifiedleaddate", "mqldate", "becameanmqldate",
                   "marketingqualifieddate"),
        "sql_at": ("becameasalesqualifiedleaddate", "sqldate", "convertedddate",
                   "converteddate", "salesqualifieddate"),
        "opportunity_at": ("becameanopportunitydate", "opportunitydate"),
        "customer_at": ("becameacustomerdate", "customerdate", "wondate"),
        "evangelist_at": ("becameanevangelistdate", "evangelistdate"),
    },
    "deals": {
        "deal_id": ("dealid", "opportunityid", "potentialid", "recordid", "id",
                    "opportunity18digitid", "opportunityid18"),
        "lead_id": ("leadid", "contactid", "associatedcontactid", "associatedcontactids",
                    "convertedleadid", "personid", "mqlid", "prospectid"),
        "account": ("account", "accountname", "company", "associatedcompany", "organization",
                    "organizationname", "accountid", "customer"),
        "created_at": ("createdate", "createddate", "createdtime", "dealcreated", "createdat",
                       "opportunitycreateddate", "engagedate", "addtime", "startdate",
                       "created", "datecreated", "creationdate", "createdon"),
        "closed_at": ("closedate", "closingdate", "closedat", "dealclosedon", "closeddate",
                      "actualclosedate"),
        # A won (lost) date marks the deal won (lost) at that date: a file of won deals
        # often has nothing else that says so.
        "won_at": ("wondate", "datewon", "closedwondate", "wontime", "wonat", "wonon",
                   "dealwondate", "becamecustomerdate", "becameacustomerdate", "customersince",
                   "customerdate"),
        "lost_at": ("lostdate", "datelost", "closedlostdate", "losttime", "lostat", "loston"),
        "stage": ("dealstage", "stage", "stagename", "salesstage", "pipelinestage"),
        "status": ("status", "dealstatus", "outcome", "result", "statustype"),
        "amount": ("amount", "value", "dealvalue", "closevalue", "amountusd", "revenue",
                   "totalamount", "opportunityamount", "dealamount", "expectedrevenue",
                   "estrevenue", "estimatedrevenue", "actualrevenue"),
        "margin": ("margin", "grossmargin", "profit", "grossprofit", "marginamount"),
        "owner": ("dealowner", "opportunityowner", "potentialowner", "owner", "ownerid",
                  "salesagent", "salesrep", "rep", "accountexecutive", "ownername", "assignedto",
                  "srid", "salesrepid", "repid", "closer", "closerid", "aeid"),
        "source": ("leadsource", "source", "originalsource", "originalsourcetype", "channel",
                   "sourceorigin", "sourcechannel", "dealsource"),
        "segment": ("segment", "customersegment", "industry", "businesssegment", "sector",
                    "tier"),
        "product": ("product", "productname", "productc", "productline", "products",
                    "productinterest"),
        "won": ("iswon", "won"),
        "closed": ("isclosed", "closed"),
    },
    "stage_history": {
        "deal_id": ("opportunityid", "dealid", "parentid", "recordid"),
        "stage": ("stagename", "stage", "tostage", "newvalue", "dealstage"),
        "entered_at": ("createddate", "changedate", "entereddate", "enteredat", "date",
                       "updatetime", "timestamp"),
    },
    "teams": {
        "owner": ("salesagent", "owner", "rep", "salesrep", "name", "username", "fullname"),
        "manager": ("manager", "managername", "reportsto", "teamlead"),
        "team": ("team", "regionaloffice", "region", "office", "territory", "group"),
    },
    "spend": {
        "month": ("month", "date", "period", "day", "week"),
        "channel": ("channel", "source", "campaigntype", "medium"),
        "amount": ("spend", "cost", "amount", "amountspent", "budget", "actualcost"),
    },
    "customers": {
        "customer_id": ("customerid", "accountid", "id", "recordid", "subscriberid",
                        "clientid"),
        "lead_id": ("leadid", "contactid"),
        "account": ("account", "accountname", "company"),
        "segment": ("segment", "industry", "tier", "contract", "contracttype", "plan",
                    "subscriptiontype"),
        "started_at": ("startedat", "startdate", "customersince", "becameacustomerdate",
                       "signupdate", "contractstart"),
        "churned_at": ("churnedat", "churndate", "enddate", "cancelledat", "contractend"),
        "churned": ("churn", "churned", "ischurned", "churnflag", "churnlabel", "exited",
                    "cancelled", "canceled"),
        "tenure_months": ("tenure", "tenuremonths", "tenureinmonths", "monthsascustomer",
                          "monthsactive", "lifetimemonths"),
        "monthly_revenue": ("monthlycharges", "monthlyrevenue", "mrr", "monthlyfee",
                            "monthlyspend", "arpu", "monthlyamount"),
        "total_revenue": ("totalcharges", "totalrevenue", "totalspend", "lifetimerevenue",
                          "totalamount"),
        "renewals": ("renewals", "renewalcount", "numberofrenewals"),
        "referrals": ("referrals", "referralcount", "numberofreferrals"),
        "nps": ("nps", "npsscore", "score", "likelihoodtorecommend"),
    },
    "awareness": {
        "month": ("month", "date", "period", "day", "week"),
        "channel": ("channel", "source", "medium", "defaultchannelgroup"),
        "visits": ("visits", "sessions", "impressions", "users", "pageviews", "reach"),
    },
}


@dataclass(frozen=True)
class Preset:
    """A known export: how to recognise it and how its columns and stages map."""

    name: str
    table: str
    signature: tuple[str, ...]  # normalised headers that must all be present
    columns: dict[str, tuple[str, ...]]  # field -> candidate headers (normalised)
    stages: dict[str, str]  # normalised stage value -> canonical stage / status
    stage_order: tuple[str, ...] = ()
    note: str = ""
    converted_means: str = "customer"  # the lead stage its yes/no "converted" column means


# Salesforce's default opportunity pipeline, in order
_SALESFORCE_STAGE_ORDER = (
    "prospecting", "qualification", "discovery", "needsanalysis", "valueproposition",
    "iddecisionmakers", "perceptionanalysis", "proposalpricequote", "proposalquote",
    "negotiationreview", "negotiation", "closedwon", "closedlost")

_HUBSPOT_LIFECYCLE = {
    "subscriber": "lead", "lead": "lead", "marketingqualifiedlead": "mql", "mql": "mql",
    "salesqualifiedlead": "sql", "sql": "sql", "opportunity": "opportunity",
    "customer": "customer", "evangelist": "evangelist", "other": NOT_A_STAGE,
}

PRESETS: tuple[Preset, ...] = (
    Preset("HubSpot contacts", "leads", ("recordid", "lifecyclestage"),
           {"lead_id": ("recordid", "contactid"), "created_at": ("createdate",),
            "source": ("originalsource", "originalsourcetype"),
            "owner": ("contactowner", "hubspotowner"),
            "account": ("associatedcompany", "companyname"), "stage": ("lifecyclestage",),
            "lead_at": ("becamealeaddate",),
            "mql_at": ("becameamarketingqualifiedleaddate",),
            "sql_at": ("becameasalesqualifiedleaddate",),
            "opportunity_at": ("becameanopportunitydate",),
            "customer_at": ("becameacustomerdate",),
            "evangelist_at": ("becameanevangelistdate",)},
           _HUBSPOT_LIFECYCLE,
           note="HubSpot's 'Became a … Date' columns give the date each lifecycle stage was "
                "reached; Subscriber counts as Lead."),
    Preset("HubSpot deals", "deals", ("dealname", "dealstage"),
           {"deal_id": ("recordid", "dealid"), "created_at": ("createdate",),
            "closed_at": ("closedate",), "stage": ("dealstage",), "amount": ("amount",),
            "owner": ("dealowner", "hubspotowner"), "account": ("associatedcompany",),
            "source": ("originalsourcetype", "originalsource"), "product": ("product",)},
           {"closedwon": "won", "closedlost": "lost"},
           ("appointmentscheduled", "qualifiedtobuy", "presentationscheduled",
            "decisionmakerboughtin", "contractsent", "closedwon", "closedlost")),
    Preset("Salesforce opportunities (object export)", "deals", ("id", "stagename"),
           {"deal_id": ("id",), "account": ("accountid",), "created_at": ("createddate",),
            "closed_at": ("closedate",), "stage": ("stagename",), "amount": ("amount",),
            "owner": ("ownerid",), "source": ("leadsource",), "won": ("iswon",),
            "closed": ("isclosed",), "product": ("productc",), "segment": ("type",)},
           {"closedwon": "won", "closedlost": "lost"}, _SALESFORCE_STAGE_ORDER,
           note="Salesforce's CloseDate of an open opportunity is the expected date; it is "
                "ignored until the deal closes."),
    Preset("Salesforce opportunity report", "deals", ("opportunityname", "stage"),
           {"deal_id": ("opportunityid",), "account": ("accountname",),
            "created_at": ("createddate",), "closed_at": ("closedate",), "stage": ("stage",),
            "amount": ("amount",), "owner": ("opportunityowner",),
            "source": ("leadsource",), "product": ("productname",), "segment": ("type",)},
           {"closedwon": "won", "closedlost": "lost"}, _SALESFORCE_STAGE_ORDER),
    Preset("Salesforce leads (object export)", "leads", ("id", "status", "isconverted"),
           {"lead_id": ("id",), "created_at": ("createddate",), "source": ("leadsource",),
            "owner": ("ownerid",), "account": ("company",), "segment": ("industry",),
            "stage": ("status",), "sql_at": ("converteddate",), "converted": ("isconverted",),
            "deal_id": ("convertedopportunityid",)},
           {"opennotcontacted": "lead", "workingcontacted": "lead", "open": "lead",
            "new": "lead", "working": "lead", "nurturing": "lead", "qualified": "sql",
            "closedconverted": "sql", "converted": "sql",
            "closednotconverted": "lead", "unqualified": "lead"},
           note="A converted Salesforce lead is counted as sales-accepted (SQL); its "
                "opportunity is in the Opportunity export.", converted_means="sql"),
    Preset("Salesforce opportunity history", "stage_history",
           ("opportunityid", "stagename", "createddate"),
           {"deal_id": ("opportunityid",), "stage": ("stagename",),
            "entered_at": ("createddate",)}, {}),
    Preset("Pipedrive deals", "deals", ("title", "stage", "status", "dealcreated"),
           {"deal_id": ("id",), "created_at": ("dealcreated",),
            "closed_at": ("dealclosedon", "wontime", "losttime", "closetime"),
            "stage": ("stage",), "status": ("status",), "amount": ("value",),
            "owner": ("owner", "creator"), "account": ("organization",),
            "lead_id": ("contactperson",), "source": ("sourceorigin", "source", "channel"),
            "product": ("product", "products")},
           {"won": "won", "lost": "lost", "open": "open", "deleted": NOT_A_STAGE},
           # Pipedrive's default pipeline, in order (a won or lost deal keeps its last stage)
           ("leadin", "contacted", "qualified", "contactmade", "demoscheduled",
            "needsdefined", "proposalmade", "negotiationsstarted"),
           note="Pipedrive's 'Deal - …' prefix is ignored when matching columns."),
    Preset("Close opportunities", "deals", ("statustype", "statuslabel", "valueformatted"),
           {"deal_id": ("id",), "lead_id": ("leadid",), "account": ("leadname",),
            "created_at": ("datecreated",), "won_at": ("datewon",), "status": ("statustype",),
            "stage": ("statuslabel",), "amount": ("valueformatted",),
            "owner": ("username",)},
           {"won": "won", "lost": "lost", "active": "open"},
           note="Close writes 'value' in cents: amounts are read from 'value_formatted' "
                "(dollars); a monthly or annual value is listed below as unreadable."),
    Preset("Zoho CRM deals", "deals", ("dealname", "stage", "closingdate"),
           {"deal_id": ("recordid", "id"), "created_at": ("createdtime",),
            "closed_at": ("closingdate",), "stage": ("stage",), "amount": ("amount",),
            "owner": ("dealowner",), "account": ("accountname",), "source": ("leadsource",),
            "segment": ("type",)},
           {"closedwon": "won", "closedlost": "lost", "closedlosttocompetition": "lost"},
           ("qualification", "needsanalysis", "valueproposition", "identifydecisionmakers",
            "proposalpricequote", "negotiationreview", "closedwon", "closedlost",
            "closedlosttocompetition"),
           note="Zoho's Closing Date of an open deal is the expected date; it is ignored "
                "until the deal closes."),
    Preset("Zoho CRM potentials (older deals export)", "deals", ("potentialname", "stage"),
           {"deal_id": ("potentialid", "recordid", "id"), "created_at": ("createdtime",),
            "closed_at": ("closingdate",), "stage": ("stage",), "amount": ("amount",),
            "owner": ("potentialowner",), "account": ("accountname",),
            "source": ("leadsource",), "segment": ("type",)},
           {"closedwon": "won", "closedlost": "lost", "closedlosttocompetition": "lost"},
           ("qualification", "needsanalysis", "valueproposition", "identifydecisionmakers",
            "proposalpricequote", "negotiationreview", "closedwon", "closedlost",
            "closedlosttocompetition"),
           note="Zoho's Closing Date of an open potential is the expected date; it is "
                "ignored until the potential closes."),
    Preset("Zoho CRM leads", "leads", ("leadowner", "leadstatus"),
           {"lead_id": ("recordid", "leadid", "id"), "created_at": ("createdtime",),
            "source": ("leadsource",), "owner": ("leadowner",), "account": ("company",),
            "segment": ("industry",), "stage": ("leadstatus",),
            "converted": ("converted", "isconverted"),
            "deal_id": ("converteddeal", "converteddealid", "convertedpotential")},
           {"prequalified": "mql", "contacted": "lead", "notcontacted": "lead",
            "attemptedtocontact": "lead", "contactinfuture": "lead", "notqualified": "lead",
            "junklead": NOT_A_STAGE, "lostlead": "lead"},
           note="A converted Zoho lead became a contact (and perhaps a deal), not a "
                "customer: it is counted as sales-accepted (SQL); customers come from won "
                "deals.", converted_means="sql"),
)

# A lead export from a CRM (not a campaign result or a lead-scoring file) says a lead was
# "converted" when it became a contact, account or deal in the CRM: sales accepted it, it has
# not bought. These headers give such an export away.
CRM_CONVERSION_HEADERS: frozenset[str] = frozenset({
    "isconverted", "leadowner", "leadstatus", "converteddate", "convertedtime",
    "convertedaccount", "convertedaccountid", "convertedcontact", "convertedcontactid",
    "convertedopportunity", "convertedopportunityid", "converteddeal", "converteddealid",
    "convertedpotential", "conversiontime", "leadconversiontime"})


def recognise(headers: list[str]) -> Preset | None:
    """The known export these headers come from, if any (the most specific match)."""
    keys = {normalise(h) for h in headers}
    matches = [p for p in PRESETS if set(p.signature) <= keys]
    return max(matches, key=lambda p: len(p.signature), default=None)


def deal_status_by_name(key: str) -> str:
    """open, won or lost, from a normalised stage or status name."""
    if "won" in key or key in ("closedwon", "win", "signed", "booked"):
        return "won"
    if "lost" in key or key in ("closedlost", "lose", "dead", "disqualified", "churned"):
        return "lost"
    return "open"
