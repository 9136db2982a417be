// Progressive enhancement only: every page works without this.
import { initAll } from "/assets/nhsuk-frontend.min.js";

initAll();
