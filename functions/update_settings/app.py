"""PATCH /settings: change the clinic-wide settings (staff). Once it has answered, every request is
decided by the new values: a write planned on a function's older copy fails its version check and is
planned again (clinic.services.clinic_settings)."""

from clinic.api import Request, endpoint, ok
from clinic.models.settings import SettingsOut, SettingsUpdate
from clinic.observability import count, logger
from clinic.services import clinic_settings


@endpoint("UpdateSettings", body=SettingsUpdate, answers=SettingsOut, summary="Change the clinic settings")
def update_settings(request: Request):
    settings = clinic_settings.update(request.body)
    logger.info("settings updated", extra={"fields": sorted(request.body.model_fields_set)})
    count("SettingsUpdated")
    return ok(settings)


lambda_handler = update_settings
