export { FrontDesk } from "./components/FrontDesk";
