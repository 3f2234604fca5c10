export { DoctorDay } from "./components/DoctorDay";
