// Red/yellow/green, shared by the overview, the weekly checkup (and alerts, when merged: one
// definition of the enum for the whole schema).
import { builder } from "../builder.ts";

export const SeverityEnum = builder.enumType("Severity", { values: ["GREEN", "YELLOW", "RED"] as const });
