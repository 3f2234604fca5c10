"""The front desk's day at a location (GET /locations/{location_id}/day) and a resource's schedule."""

from __future__ import annotations

import datetime as dt

from pydantic import ConfigDict, Field

from clinic.models.appointments import AppointmentOut
from clinic.models.common import IdOut, RequestModel, ResponseModel


class DayQuery(RequestModel):
    """?date=YYYY-MM-DD: the location's local day."""

    model_config = ConfigDict(extra="ignore")
    date: dt.date = Field(description="The location's local day, YYYY-MM-DD")


class DayDoctor(ResponseModel):
    id: IdOut
    given_name: str
    family_name: str
    specialty: str


class DayResource(ResponseModel):
    id: IdOut
    name: str
    kind: str


class DayPatient(ResponseModel):
    id: IdOut
    given_name: str
    family_name: str
    birth_date: dt.date


class DayAppointment(AppointmentOut):
    patient: DayPatient


class DaySheet(ResponseModel):
    date: dt.date
    location_id: IdOut
    time_zone: str
    doctors: list[DayDoctor] = Field(description="The doctors working there that day")
    resources: list[DayResource] = Field(description="The location's active rooms and equipment")
    appointments: list[DayAppointment] = Field(description="Every appointment there that day not cancelled, by start")
