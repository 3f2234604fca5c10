export { PatientBooking } from "./components/PatientBooking";
