// The outcome of an operator's last action, shown as one line near where it was taken.
export interface Notice {
  kind: "error" | "success";
  text: string;
}
