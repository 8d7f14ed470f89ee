import type { ComponentChildren } from "preact";

/** One labelled value of a facts list (`<dl class="facts">`): the term and its value. */
export function Fact(props: { label: string; title?: string; testId?: string; children: ComponentChildren }) {
  return (
    <div>
      <dt>{props.label}</dt>
      <dd title={props.title} data-testid={props.testId}>
        {props.children}
      </dd>
    </div>
  );
}
