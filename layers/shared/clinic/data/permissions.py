"""What a function may do in DynamoDB, by name: the routes declare names (``clinic.routes``), this
module says which actions on which table or index each name means, and which environment variable
tells the code the table's name. infra/generate.py turns them into each function's IAM statements
and environment; tests/handlers/test_least_privilege.py proves each function uses exactly what it
is granted.

Transactions need the item-level action of each item they hold (Put → PutItem, Update → UpdateItem,
ConditionCheck → ConditionCheckItem); IAM has no action for TransactWriteItems itself.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Grant:
    table: str  # the table's logical id in template.yaml
    actions: tuple[str, ...]  # DynamoDB actions, without the "dynamodb:" prefix
    index: str | None = None  # a GSI of the table, or None for the table itself
    # the partition-key prefixes the grant is limited to (IAM's dynamodb:LeadingKeys); empty: any item
    owners: tuple[str, ...] = ()


# The slot-locks table's items by owner (clinic.data.locks, ledger, quota, places): a doctor's hour items
# and their links to patients; a patient's hour items, open-appointment counter and quotas; a location's
# doctors. A function that needs one owner's kind of item only is granted that kind only.
DOCTOR_ITEMS, PATIENT_ITEMS, LOCATION_ITEMS = ("doctor#",), ("patient#",), ("location#",)
RESOURCE_ITEMS = ("resource#",)


# The logical id of each table → the environment variable that holds its name.
TABLE_VARIABLES: dict[str, str] = {
    "PatientsTable": "PATIENTS_TABLE",
    "DoctorsTable": "DOCTORS_TABLE",
    "AppointmentsTable": "APPOINTMENTS_TABLE",
    "SlotLocksTable": "SLOT_LOCKS_TABLE",
    "AuditTable": "AUDIT_TABLE",
    "IdempotencyTable": "IDEMPOTENCY_TABLE",
    "SettingsTable": "SETTINGS_TABLE",
    "HoldsTable": "HOLDS_TABLE",
    "WaitlistTable": "WAITLIST_TABLE",
    "LocationsTable": "LOCATIONS_TABLE",
    "ResourcesTable": "RESOURCES_TABLE",
}

PERMISSIONS: dict[str, tuple[Grant, ...]] = {
    # /health: one keyed read of a record that never exists, per business table
    "health.probe": tuple(
        Grant(t, ("GetItem",)) for t in ("PatientsTable", "DoctorsTable", "AppointmentsTable", "SlotLocksTable")
    ),
    "patients.create": (Grant("PatientsTable", ("PutItem",)),),
    "patients.list": (Grant("PatientsTable", ("Scan",)),),
    "patients.search": (
        Grant("PatientsTable", ("Query",), "by_family_name"),
        Grant("PatientsTable", ("Query",), "by_birth_date"),
    ),
    "patients.read": (Grant("PatientsTable", ("GetItem",)),),
    "patients.read_many": (Grant("PatientsTable", ("BatchGetItem",)),),
    "patients.update": (Grant("PatientsTable", ("GetItem", "PutItem")),),
    "doctors.create": (Grant("DoctorsTable", ("PutItem",)),),
    "doctors.list": (Grant("DoctorsTable", ("Scan",)), Grant("DoctorsTable", ("Query",), "by_specialty")),
    "doctors.read": (Grant("DoctorsTable", ("GetItem",)),),
    # availability: the doctor and the settings, read now, in one BatchGetItem
    "doctors.read_with_settings": (Grant("DoctorsTable", ("BatchGetItem",)), Grant("SettingsTable", ("BatchGetItem",))),
    "doctors.update": (Grant("DoctorsTable", ("GetItem", "PutItem")),),
    "slots.read": (Grant("SlotLocksTable", ("Query",), owners=DOCTOR_ITEMS),),  # a doctor's taken cells
    # a refused series reads the hours its occurrences touch and the patient's open count, at once
    "slots.read_many": (Grant("SlotLocksTable", ("BatchGetItem",)),),
    # a patient's quota of live holds or waitlist entries (clinic.data.quota), read before taking a cell
    "quota.read": (Grant("SlotLocksTable", ("GetItem",), owners=PATIENT_ITEMS),),
    # doctor–patient links (clinic.data.ledger): may this doctor see this patient; a doctor's patients
    "links.read": (Grant("SlotLocksTable", ("GetItem",), owners=DOCTOR_ITEMS),),
    "links.query": (Grant("SlotLocksTable", ("Query",), owners=DOCTOR_ITEMS),),
    # time off: the doctor written again under its version, with the copies on its locations' membership
    # items (location#<id> / #doctor#<id>), in one transaction
    "doctors.time_off": (
        Grant("DoctorsTable", ("PutItem",)),
        Grant("SlotLocksTable", ("PutItem",), owners=LOCATION_ITEMS),
    ),
    # doctors at locations (clinic.data.places): a doctor written with hours that name locations checks
    # each one in its transaction (exists, active, the doctor's zone) and keeps the location's membership
    # items (location#<id> / #doctor#<id>, each with a copy of the doctor) in step, in that same transaction
    "locations.check": (Grant("LocationsTable", ("ConditionCheckItem",)),),
    "doctors.locations.add": (Grant("SlotLocksTable", ("PutItem",), owners=LOCATION_ITEMS),),
    "doctors.locations": (Grant("SlotLocksTable", ("PutItem", "DeleteItem"), owners=LOCATION_ITEMS),),
    # the doctors working at a location: its membership items (with the doctors' copies), and the records
    # of those whose item predates the copies
    "doctors.by_location": (
        Grant("SlotLocksTable", ("Query",), owners=LOCATION_ITEMS),
        Grant("DoctorsTable", ("BatchGetItem",)),
    ),
    # locations and resources (clinic.data.places); a resource is created only at an active location,
    # checked in the same transaction
    "locations.create": (Grant("LocationsTable", ("PutItem",)),),
    "locations.list": (Grant("LocationsTable", ("Query",), "by_name"),),
    "locations.read": (Grant("LocationsTable", ("GetItem",)),),
    "locations.update": (Grant("LocationsTable", ("GetItem", "PutItem")),),
    "resources.create": (Grant("ResourcesTable", ("PutItem",)), Grant("LocationsTable", ("ConditionCheckItem",))),
    "resources.list": (
        Grant("ResourcesTable", ("Query",), "by_name"),
        Grant("ResourcesTable", ("Query",), "by_location"),
    ),
    "resources.read": (Grant("ResourcesTable", ("GetItem",)),),
    # a location's resources, by name (the FHIR view tells a room's participants from a device's by them)
    "resources.by_location": (Grant("ResourcesTable", ("Query",), "by_location"),),
    "resources.update": (Grant("ResourcesTable", ("GetItem", "PutItem")),),
    # where a booking happens and what it takes (clinic.services.allocation): the locations and a
    # location's resources as read to plan; their active checks in the write; the read that chooses free
    # rooms (the doctor's, the patient's and the candidate resources' hour items, one BatchGetItem)
    "places.read": (Grant("LocationsTable", ("GetItem",)), Grant("ResourcesTable", ("Query",), "by_location")),
    "places.check": (
        Grant("LocationsTable", ("ConditionCheckItem",)),
        Grant("ResourcesTable", ("ConditionCheckItem",)),
    ),
    # availability of a type that needs rooms or equipment: each resource's occupied time
    "resources.slots": (Grant("SlotLocksTable", ("Query",), owners=RESOURCE_ITEMS),),
    # the earliest-availability search: a location's doctors' and resources' hour items (site_hours)
    "slots.by_site": (Grant("SlotLocksTable", ("Query",), "site_hours"),),
    # a location's day and a resource's schedule: the appointments at a location, by start
    "appointments.by_location": (Grant("AppointmentsTable", ("Query",), "location_schedule"),),
    "settings.read": (Grant("SettingsTable", ("GetItem",)),),
    # a write planned with this container's copy of the settings proves it current (clinic.data.clinic_settings)
    "settings.check": (Grant("SettingsTable", ("ConditionCheckItem",)),),
    # the values and the version copies that writes check, in one transaction
    "settings.update": (Grant("SettingsTable", ("GetItem", "PutItem")),),
    "appointments.read": (Grant("AppointmentsTable", ("GetItem",)),),
    "appointments.read_many": (Grant("AppointmentsTable", ("BatchGetItem",)),),
    "appointments.by_series": (
        Grant("AppointmentsTable", ("Query",), "series_appointments"),
        Grant("AppointmentsTable", ("BatchGetItem",)),
    ),
    "appointments.by_doctor": (Grant("AppointmentsTable", ("Query",), "doctor_schedule"),),
    "appointments.by_patient": (Grant("AppointmentsTable", ("Query",), "patient_appointments"),),
    # one transaction: the appointment(s), the doctor's and patient's slot locks, the patient's open
    # appointments and the doctor–patient link (same table), doctor and patient checks
    "appointments.book": (
        Grant("AppointmentsTable", ("PutItem",)),
        Grant("DoctorsTable", ("ConditionCheckItem",)),
        Grant("PatientsTable", ("ConditionCheckItem",)),
        Grant("SlotLocksTable", ("UpdateItem",)),
    ),
    "appointments.change": (
        Grant("AppointmentsTable", ("UpdateItem",)),
        Grant("DoctorsTable", ("ConditionCheckItem",)),
        Grant("PatientsTable", ("ConditionCheckItem",)),
        Grant("SlotLocksTable", ("UpdateItem",)),
    ),
    "appointments.cancel": (Grant("AppointmentsTable", ("UpdateItem",)), Grant("SlotLocksTable", ("UpdateItem",))),
    # a status change moves no time: only the patient's open-appointment counter and the doctor–patient
    # link's live and done counts
    "appointments.status": (
        Grant("AppointmentsTable", ("UpdateItem",)),
        Grant("SlotLocksTable", ("UpdateItem",), owners=PATIENT_ITEMS + DOCTOR_ITEMS),
    ),
    # holds (clinic.data.holds): one transaction each, like the appointments'
    "holds.read": (Grant("HoldsTable", ("GetItem",)),),
    "holds.place": (
        Grant("HoldsTable", ("PutItem",)),
        Grant("DoctorsTable", ("ConditionCheckItem",)),
        Grant("PatientsTable", ("ConditionCheckItem",)),
        Grant("SlotLocksTable", ("UpdateItem", "ConditionCheckItem")),
    ),
    "holds.confirm": (
        Grant("HoldsTable", ("UpdateItem",)),
        Grant("AppointmentsTable", ("PutItem",)),
        Grant("DoctorsTable", ("ConditionCheckItem",)),
        Grant("PatientsTable", ("ConditionCheckItem",)),
        Grant("SlotLocksTable", ("UpdateItem",)),
        Grant("WaitlistTable", ("UpdateItem",)),
    ),
    "holds.end": (
        Grant("HoldsTable", ("UpdateItem",)),
        Grant("SlotLocksTable", ("BatchGetItem", "UpdateItem")),  # which cells it still holds, then free them
        Grant("WaitlistTable", ("GetItem", "UpdateItem")),
    ),
    "holds.offer": (
        Grant("HoldsTable", ("PutItem",)),
        Grant("DoctorsTable", ("ConditionCheckItem",)),
        Grant("PatientsTable", ("ConditionCheckItem",)),
        Grant("SlotLocksTable", ("UpdateItem", "ConditionCheckItem")),
        Grant("WaitlistTable", ("UpdateItem",)),
    ),
    # the waitlist (clinic.data.waitlist)
    # the entry, its cell of the patient's waitlist quota, the settings' check: one transaction
    "waitlist.create": (
        Grant("WaitlistTable", ("PutItem",)),
        Grant("SlotLocksTable", ("GetItem", "UpdateItem"), owners=PATIENT_ITEMS),
        Grant("SettingsTable", ("ConditionCheckItem",)),
    ),
    "waitlist.read": (Grant("WaitlistTable", ("GetItem",)),),
    "waitlist.cancel": (
        Grant("WaitlistTable", ("UpdateItem",)),
        Grant("SlotLocksTable", ("UpdateItem",), owners=PATIENT_ITEMS),  # the entry's quota cell
    ),
    "waitlist.queue": (Grant("WaitlistTable", ("Query",), "doctor_queue"),),
    "waitlist.by_patient": (Grant("WaitlistTable", ("Query",), "patient_entries"),),
    "audit.read": (Grant("AuditTable", ("Query",)),),
    # added to every audited route: the trail is append-only
    "audit.append": (Grant("AuditTable", ("PutItem",)),),
    # added to every keyed route: Powertools' idempotency records
    "idempotency": (Grant("IdempotencyTable", ("GetItem", "PutItem", "UpdateItem", "DeleteItem")),),
    # hands out or reads next_token values: the pagination secret (SECRETS below), no table
    "pagination": (),
}

# Permission name → (the Secrets Manager secret's logical id, the variable holding its ARN).
SECRETS: dict[str, tuple[str, str]] = {"pagination": ("PaginationSecret", "PAGINATION_SECRET_ARN")}


@dataclass(frozen=True)
class Resource:
    """A grant on something other than a table: IAM actions on an ARN, and the variable (if any) that
    tells the code about it. ``arn`` and ``value`` are "Logical.Attribute" (a GetAtt) or a Sub string.
    ``condition`` narrows the grant: (operator, condition key, value) triples, the value a Sub string
    where it names a resource or pseudo parameter."""

    actions: tuple[str, ...]
    arn: str
    variable: str | None = None
    value: str = ""
    condition: tuple[tuple[str, str, str], ...] = ()


# The ARNs of the schedules in the stack's group: what EventBridge Scheduler binds a payload encrypted
# with the stack's key to (the encryption context aws:scheduler:schedule:arn).
STACK_SCHEDULES = "arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:schedule/${ClinicScheduleGroup}/*"
SCHEDULE_CONTEXT = "kms:EncryptionContext:aws:scheduler:schedule:arn"
# Scheduler encrypts a schedule's payload with the caller's own KMS permissions, through the service.
_VIA_SCHEDULER = ("StringEquals", "kms:ViaService", "scheduler.${AWS::Region}.amazonaws.com")


RESOURCES: dict[str, tuple[Resource, ...]] = {
    # which stream a record comes from (the publisher reads streams; SAM grants stream reads itself)
    "events.sources": tuple(
        Resource((), "", variable, f"${{{table}}}")
        for table, variable in (
            ("AppointmentsTable", "APPOINTMENTS_TABLE"),
            ("HoldsTable", "HOLDS_TABLE"),
            ("WaitlistTable", "WAITLIST_TABLE"),
        )
    ),
    # put domain events on the stack's bus (clinic.events)
    "events.publish": (Resource(("events:PutEvents",), "ClinicEventBus.Arn", "EVENT_BUS_NAME", "${ClinicEventBus}"),),
    # one-time schedules in the stack's group: reminders and hold expiries (clinic.services.timers)
    "scheduler.timers": (
        Resource(
            (
                "scheduler:CreateSchedule",
                "scheduler:UpdateSchedule",
                "scheduler:DeleteSchedule",
                "scheduler:GetSchedule",
            ),
            STACK_SCHEDULES,
            "SCHEDULE_GROUP",
            "${ClinicScheduleGroup}",
        ),
        # the role the scheduler invokes the targets with, handed to EventBridge Scheduler and nothing else
        Resource(
            ("iam:PassRole",),
            "SchedulerRole.Arn",
            "SCHEDULER_ROLE_ARN",
            "SchedulerRole.Arn",
            condition=(("StringEquals", "iam:PassedToService", "scheduler.amazonaws.com"),),
        ),
        # every schedule's payload (appointment, patient and hold ids) encrypted with the stack's key
        # (KmsKeyArn): Scheduler checks the key with the caller's kms:DescribeKey and encrypts with its
        # kms:GenerateDataKey (kms:Decrypt to read or change it), each through Scheduler only, the
        # data keys bound to this group's schedules. DescribeKey carries no encryption context.
        Resource(
            ("kms:DescribeKey",), "DataKey.Arn", "SCHEDULE_KMS_KEY_ARN", "DataKey.Arn", condition=(_VIA_SCHEDULER,)
        ),
        Resource(
            ("kms:GenerateDataKey", "kms:Decrypt"),
            "DataKey.Arn",
            condition=(_VIA_SCHEDULER, ("ArnLike", SCHEDULE_CONTEXT, STACK_SCHEDULES)),
        ),
        # the published alias (SnapStart runs published versions only)
        Resource((), "", "REMINDER_TARGET_ARN", "${SendReminderFunction.Alias}"),
        Resource((), "", "HOLD_EXPIRY_TARGET_ARN", "${ExpireHoldFunction.Alias}"),
        # where the scheduler puts an invocation it could not deliver (SchedulerRole may send there)
        Resource((), "", "SCHEDULE_DEAD_LETTER_ARN", "EventsDeadLetterQueue.Arn"),
    ),
}


def grants_of(names: tuple[str, ...] | list[str]) -> list[Grant]:
    """The grants of some permission names, merged per table/index and owners, actions in a stable
    order; an action granted on every item of a table/index is not granted again for some owners."""
    merged: dict[tuple[str, str | None, tuple[str, ...]], list[str]] = {}
    for name in names:
        for grant in PERMISSIONS.get(name, ()):
            actions = merged.setdefault((grant.table, grant.index, tuple(sorted(grant.owners))), [])
            actions.extend(a for a in grant.actions if a not in actions)
    result = []
    for (table, index, owners), actions in sorted(merged.items(), key=lambda kv: (kv[0][0], kv[0][1] or "", kv[0][2])):
        if owners:
            everywhere = merged.get((table, index, ()), [])
            actions = [a for a in actions if a not in everywhere]
        if actions:
            result.append(Grant(table, tuple(sorted(actions)), index, owners))
    return result


def tables_of(names: tuple[str, ...] | list[str]) -> list[str]:
    """The tables (logical ids) some permission names touch, in a stable order."""
    return sorted({grant.table for name in names for grant in PERMISSIONS.get(name, ())})


def resource_variables(names: tuple[str, ...] | list[str]) -> list[str]:
    """The variables that tell the code about the resources some permission names grant (the bus, the
    schedule group, the scheduler's role and key...), in a stable order."""
    return sorted({r.variable for name in names for r in RESOURCES.get(name, ()) if r.variable})
