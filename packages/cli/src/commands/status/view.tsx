import { Box, Text, useApp, useInput } from "ink";
import { useCallback, useEffect, useRef, useState } from "react";
import type { StatusReport } from "./collect.js";
import { headline, MEMBER_COLUMNS, memberCells, PUSH_COLUMNS, pushCells } from "./format.js";

function widths(rows: string[][]): number[] {
  return rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
}

function Row({
  cells,
  widths,
  color,
  bold,
}: {
  cells: string[];
  widths: number[];
  color?: string;
  bold?: boolean;
}) {
  return (
    <Text color={color} bold={bold}>
      {cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]! + 2))).join("")}
    </Text>
  );
}

export interface StatusViewProps {
  collect: () => Promise<StatusReport>;
  intervalMs: number;
}

/** The live screen: refreshes every interval; q quits, r refreshes now. */
export function StatusView({ collect, intervalMs }: StatusViewProps) {
  const { exit } = useApp();
  const [report, setReport] = useState<StatusReport | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const busy = useRef(false);
  const refresh = useCallback(async () => {
    if (busy.current) return;
    busy.current = true;
    try {
      setReport(await collect());
      setFailure(null);
    } catch (error) {
      // Never a crash of the screen: say what failed and keep trying.
      setFailure((error as Error).message);
    } finally {
      busy.current = false;
    }
  }, [collect]);
  useEffect(() => {
    void refresh();
    const timer = setInterval(() => void refresh(), intervalMs);
    return () => clearInterval(timer);
  }, [refresh, intervalMs]);
  useInput((input, key) => {
    if (input === "q" || key.escape) exit();
    else if (input === "r") void refresh();
  });

  if (!report) return <Text>{failure ? `cfg status: ${failure}` : "cfg status: asking the cluster…"}</Text>;
  const memberRows = [MEMBER_COLUMNS, ...report.members.map(memberCells)];
  const memberWidths = widths(memberRows);
  const pushRows = [PUSH_COLUMNS, ...(report.pushes ?? []).map(pushCells)];
  const pushWidths = widths(pushRows);
  return (
    <Box flexDirection="column">
      <Text bold color={report.leader ? "green" : "red"}>
        {headline(report)}
      </Text>
      <Box flexDirection="column" marginTop={1}>
        <Row cells={MEMBER_COLUMNS} widths={memberWidths} bold />
        {report.members.map((m) => (
          <Row
            key={m.id}
            cells={memberCells(m)}
            widths={memberWidths}
            color={
              m.health === "down"
                ? "red"
                : m.health === "not ready"
                  ? "yellow"
                  : m.isLeader
                    ? "green"
                    : undefined
            }
          />
        ))}
      </Box>
      {report.project ? (
        <Box flexDirection="column" marginTop={1}>
          <Text bold>Latest pushes of {report.project}</Text>
          {report.pushes && report.pushes.length > 0 ? (
            <>
              <Row cells={PUSH_COLUMNS} widths={pushWidths} bold />
              {report.pushes.map((p) => (
                <Row key={p.revision} cells={pushCells(p)} widths={pushWidths} />
              ))}
            </>
          ) : (
            <Text dimColor>{report.pushes ? "no pushes yet" : "not readable now"}</Text>
          )}
        </Box>
      ) : null}
      {[...report.problems, ...(failure ? [failure] : [])].map((problem) => (
        <Text key={problem} color="yellow">
          {problem}
        </Text>
      ))}
      <Box marginTop={1}>
        <Text dimColor>
          updated {report.at.toISOString().slice(11, 19)} UTC · every {intervalMs / 1000}s · r refresh · q
          quit
        </Text>
      </Box>
    </Box>
  );
}
