// Chart.js, with only the parts the app draws: bars and lines on a category axis.
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from "chart.js";
import { axisNumber, energyUnitShown } from "../format.js";

Chart.register(
  BarController,
  BarElement,
  CategoryScale,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
);

export const COLORS = {
  used: "#1e88e5",
  over: "#e53935",
  forecast: "#8e24aa",
  limit: "#fb8c00",
  charge: "#43a047",
  discharge: "#f4511e",
  export: "#43a047",
  net: "#37474f",
};

export function baseOptions({ yTitle = energyUnitShown(), stacked = false } = {}) {
  return {
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    interaction: { mode: "index", intersect: false },
    plugins: { legend: { position: "top" } },
    scales: {
      x: { stacked, ticks: { maxRotation: 0, autoSkip: true } },
      y: {
        stacked,
        beginAtZero: true,
        title: { display: true, text: yTitle },
        ticks: { callback: axisNumber },
      },
    },
  };
}
