"""Mechanism model of the plant: equipment states on a coarse time grid, one Signal per measured tag.

Pumps follow their curve (head falls with flow), motors draw current for the mechanical load they drive,
bearings and windings heat up with load and ambient through a thermal lag, vibration rises with wear.
"""

from __future__ import annotations

import math

import numpy as np

from demo_plant import faults as fl
from demo_plant.arrays import Array
from demo_plant.dynamics import Signal, diurnal, lag, sawtooth_phase, smooth_noise, triangle
from demo_plant.model import Equipment, Fault, Plant
from demo_plant.timebase import Timebase

GRID_S = 10
MIN_STATE_S = 180  # a compressor's load/unload timers: it stays loaded or unloaded at least this long
_BATCH_S = 5400.0
_BAR_PER_M = 0.0981
_State = dict[str, Array]


class PlantModel:
    """Simulates every equipment item (measured or not) and exposes the measured tags as Signals."""

    def __init__(
        self, plant: Plant, tb: Timebase, running: dict[str, Array], faults: list[Fault], rng: np.random.Generator
    ) -> None:
        self.plant, self.tb, self.faults, self.rng = plant, tb, faults, rng
        self.t = grid(tb)
        n = len(self.t)
        hour = tb.local_hour(self.t)
        self.ambient = 22.0 + 2.5 * diurnal(hour) + smooth_noise(rng, n, 3600, GRID_S, 0.4)
        outside = 9.0 + 5.0 * diurnal(hour) + smooth_noise(rng, n, 7200, GRID_S, 1.0)
        self.cw_supply = 19.0 + 0.35 * (outside - 9.0) + smooth_noise(rng, n, 1800, GRID_S, 0.2)
        self.running = running
        prod = [running[line] for line in plant.production_lines if line in running]
        self.plant_load = np.mean(prod, axis=0) if prod else np.ones(n)
        self.batch_offset = {line: float(rng.uniform(0, _BATCH_S)) for line in plant.production_lines}
        self.eq = plant.equipment_by_id()
        self.state: dict[str, _State] = {}
        self._demand: dict[str, Array] = {}
        self.signals: dict[str, dict[str, Signal]] = {}

    # -- helpers -------------------------------------------------------------------------------------
    def run_of(self, line_id: str) -> Array:
        raw = self.running.get(line_id, np.ones(len(self.t)))
        return lag(raw, 20.0, GRID_S)

    def phase_of(self, line_id: str) -> Array:
        return sawtooth_phase(self.t.astype(float), _BATCH_S, self.batch_offset.get(line_id, 0.0))

    def unit_items(self, eq: Equipment, eq_type: str) -> list[Equipment]:
        return [e for e in self.plant.equipment if e.unit_id == eq.unit_id and e.eq_type == eq_type]

    def _put(self, eq: Equipment, **signals: Signal) -> None:
        self.signals[eq.node_id] = signals

    # -- simulation ----------------------------------------------------------------------------------
    def simulate(self) -> dict[str, Signal]:
        """Signals of all measured tags, keyed by tag."""
        order = ("tank", "pump", "compressor", "fan", "mixer", "conveyor", "pressure_vessel", "heat_exchanger", "motor")
        for eq_type in order:
            for eq in self.plant.equipment:
                if eq.eq_type == eq_type:
                    getattr(self, f"_{eq_type}")(eq)
        return {p.tag: self.signals[p.equipment_id][p.kind] for p in self.plant.points}

    def _tank(self, eq: Equipment) -> None:
        n, rng = len(self.t), self.rng
        if eq.role == "cooling_basin":
            level = 72.0 + smooth_noise(rng, n, 5400, GRID_S, 2.5)
            temp = self.cw_supply + 0.3
        else:
            period = float(rng.uniform(4.0, 6.0)) * 3600
            level = 14.0 + 72.0 * triangle(sawtooth_phase(self.t.astype(float), period, float(rng.uniform(0, period))))
            level = level + smooth_noise(rng, n, 1200, GRID_S, 2.0)
            temp = lag(self.ambient + 6.0 * self.run_of(eq.line_id), 3600, GRID_S)
        level = np.clip(level, 0.0, 100.0)
        height = eq.rating.get("height_m", 5.0)
        self.state[eq.node_id] = {"level": level}
        self._put(
            eq,
            LEVEL=Signal(level, 0.3),
            TEMP=Signal(temp, 0.08),
            PRESS=Signal(level / 100.0 * height * _BAR_PER_M, 0.002),
        )

    def _pump_flow(self, eq: Equipment) -> tuple[Array, Array]:
        """(run 0..1, flow setpoint m3/h)."""
        n, r, rng = len(self.t), eq.rating, self.rng
        q_nom = r["q_nom"]
        run = self.run_of(eq.line_id)
        if eq.role == "cooling_water":
            pumps = self.unit_items(eq, "pump")
            if eq.unit_id not in self._demand:
                wander = smooth_noise(rng, n, 1800, GRID_S, 0.02)
                self._demand[eq.unit_id] = sum(p.rating["q_nom"] for p in pumps) * (
                    0.70 + 0.08 * diurnal(self.tb.local_hour(self.t)) + 0.06 * self.plant_load + wander
                )
            demand = self._demand[eq.unit_id]
            wear = fl.get(self.faults, "bearing_wear")
            stopped = (self.t >= wear.end) & (self.t < wear.end + fl.MAINTENANCE_STOP_S)
            run = lag(np.where(stopped, 0.0, 1.0), 20.0, GRID_S) if eq.node_id == fl.BEARING_PUMP else np.ones(n)
            share = demand / len(pumps)
            if eq.node_id != fl.BEARING_PUMP and len(pumps) > 1:
                share = np.where(stopped, np.minimum(demand * 1.0 / (len(pumps) - 1), 1.25 * q_nom), share)
            return run, share * run
        if eq.role == "transfer":
            run = run * lag((self.phase_of(eq.line_id) >= 0.8).astype(float), 20.0, GRID_S)
        frac = 0.80 + smooth_noise(rng, n, 2400, GRID_S, 0.05)
        return run, q_nom * frac * run

    def _pump(self, eq: Equipment) -> None:
        r, rng, n = eq.rating, self.rng, len(self.t)
        q_nom, h0, eta_max = r["q_nom"], r["h0"], r["eta"]
        run, setpoint = self._pump_flow(eq)
        cav: Array = np.zeros(n)
        wear: Array = np.zeros(n)
        if eq.node_id == fl.CAVITATION_PUMP:
            f = fl.get(self.faults, "cavitation")
            cav = fl.window(self.t, f.start, f.end, 1500.0, 300.0)
        if eq.node_id == fl.BEARING_PUMP:
            f = fl.get(self.faults, "bearing_wear")
            wear = fl.progress(self.t, f.start, f.end)
        flow = setpoint * (1.0 - 0.2 * cav)
        head = np.maximum(h0 * run**2 - 0.2 * h0 / q_nom**2 * flow**2, 0.0) * (1.0 - 0.25 * cav)
        tanks = self.unit_items(eq, "tank")
        level_term = 0.0 if not tanks else 0.004 * (self.state[tanks[0].node_id]["level"] - 50.0)
        suct = r["p_suct"] + level_term - 0.1 * (flow / q_nom) ** 2 - 1.15 * cav
        disch = suct + head * _BAR_PER_M
        q_rel = flow / q_nom
        eta = np.clip(eta_max * (1.0 - (q_rel - 1.0) ** 2), 0.35, eta_max)
        shaft = run * (flow * head * 9.81 / 3600.0 / eta + 0.05 * r["shaft_kw"])
        load = shaft / r["shaft_kw"]
        amb = self.ambient
        wear_heat = 30.0 * wear**1.3
        brg_de = lag(amb + run * (20.0 + 14.0 * load) + wear_heat, 1500.0, GRID_S)
        brg_nde = lag(amb + run * (17.0 + 11.0 * load) + 0.2 * wear_heat, 1500.0, GRID_S)
        seal = lag(amb + 6.0 + 10.0 * run, 900.0, GRID_S)
        v0 = float(rng.uniform(1.2, 2.6))
        vib_de = run * v0 * (0.7 + 0.3 * load) + 0.15 + 9.5 * wear**1.6 + 1.5 * cav
        vib_nde = run * 0.8 * v0 * (0.7 + 0.3 * load) + 0.12 + 2.5 * wear**1.6 + 1.0 * cav
        self.state[eq.node_id] = {"run": run, "flow": flow, "shaft": shaft, "speed": run, "cav": cav}
        self._put(
            eq,
            # erratic flow in cavitation wanders over minutes (not sample to sample)
            FLOW=Signal(
                flow + cav * smooth_noise(rng, len(self.t), 600.0, GRID_S, 0.1 * q_nom),
                0.008 * q_nom * (1.0 + 2.0 * cav),
                setpoint=setpoint,
            ),
            DISCH_PRESS=Signal(disch, 0.01 * (1.0 + 8.0 * cav)),
            SUCT_PRESS=Signal(suct, 0.008 * (1.0 + 4.0 * cav)),
            VIB_RMS=Signal(vib_de, 0.05 * vib_de + 0.02, bursts=0.12 * cav, burst_size=5.0),
            VIB_RMS_NDE=Signal(vib_nde, 0.05 * vib_nde + 0.02, bursts=0.08 * cav, burst_size=3.0),
            BRG_TEMP_DE=Signal(brg_de, 0.08),
            BRG_TEMP_NDE=Signal(brg_nde, 0.08),
            SEAL_TEMP=Signal(seal, 0.08),
        )

    def _compressor(self, eq: Equipment) -> None:
        r, rng, n = eq.rating, self.rng, len(self.t)
        lead = self.unit_items(eq, "compressor")[0].node_id == eq.node_id
        demand = 0.55 + 0.2 * self.plant_load + smooth_noise(rng, n, 1800, GRID_S, 0.04)
        # a compressor unloads for at least a fifth of its 15-25 min cycle (three minutes or more), as unload timers
        # enforce: its current dips for several samples, never for a single one (that would be a sensor spike)
        duty = np.clip(demand * 1.15, 0.3, 0.8) if lead else np.clip(demand * 0.8 - 0.15, 0.2, 0.8)
        freq = 1.0 / (float(rng.uniform(900, 1500))) * (1.0 + smooth_noise(rng, n, 900, GRID_S, 0.1))
        phase = np.cumsum(freq * GRID_S) % 1.0
        loaded = _hold(phase < duty, MIN_STATE_S // GRID_S).astype(float)
        p_lo, p_hi = r["p_lo"], r["p_hi"]
        receiver = p_lo + (p_hi - p_lo) * np.where(loaded > 0, phase / duty, (1.0 - phase) / (1.0 - duty))
        if not lead:
            receiver = self.state[self.unit_items(eq, "compressor")[0].node_id]["receiver"]
        shaft = r["shaft_kw"] * (0.3 + 0.7 * loaded)
        amb = self.ambient
        v0 = float(rng.uniform(1.0, 2.0))
        vib = v0 * (0.8 + 0.4 * loaded) + 0.1
        self.state[eq.node_id] = {"run": np.ones(n), "shaft": shaft, "speed": np.ones(n), "receiver": receiver}
        self._put(
            eq,
            DISCH_PRESS=Signal(receiver + 0.15 * loaded, 0.01),
            DISCH_TEMP=Signal(lag(amb + 30.0 + 40.0 * loaded, 180.0, GRID_S), 0.1),
            FLOW=Signal(r["fad"] * lag(loaded, 15.0, GRID_S), 0.01 * r["fad"]),
            VIB_RMS=Signal(vib, 0.05 * vib + 0.02),
            OIL_TEMP=Signal(lag(amb + 30.0 + 35.0 * duty, 900.0, GRID_S), 0.08),
            OIL_PRESS=Signal(3.4 + 0.6 * loaded, 0.02),
        )

    def _fan(self, eq: Equipment) -> None:
        r, rng, n = eq.rating, self.rng, len(self.t)
        speed = 0.78 + 0.15 * diurnal(self.tb.local_hour(self.t)) + smooth_noise(rng, n, 1800, GRID_S, 0.02)
        v0 = float(rng.uniform(0.8, 1.8))
        vib = v0 * speed**2 + 0.1
        self.state[eq.node_id] = {"run": np.ones(n), "shaft": r["shaft_kw"] * speed**3, "speed": speed}
        self._put(
            eq,
            SPEED=Signal(r["rpm"] * speed, 1.5),
            VIB_RMS=Signal(vib, 0.05 * vib + 0.02),
            BRG_TEMP_DE=Signal(lag(self.ambient + 12.0 + 10.0 * speed, 1500.0, GRID_S), 0.08),
            BRG_TEMP_NDE=Signal(lag(self.ambient + 10.0 + 8.0 * speed, 1500.0, GRID_S), 0.08),
        )

    def _mixer(self, eq: Equipment) -> None:
        r, rng = eq.rating, self.rng
        run = self.run_of(eq.line_id)
        phase = self.phase_of(eq.line_id)
        torque = run * (30.0 + 35.0 * (0.4 + 0.6 * phase))
        motor = next((m for m in self.unit_items(eq, "motor") if m.drives == eq.node_id), None)
        if motor is not None and motor.node_id == fl.OVERLOAD_MOTOR:
            f = fl.get(self.faults, "motor_overload")
            torque = torque + 105.0 * fl.window(self.t, f.start, f.end, 600.0, 120.0) * run
        speed = run * (1.0 - 0.02 * torque / 100.0)
        product = lag(self.ambient + run * (15.0 + 30.0 * phase), 600.0, GRID_S)
        v0 = float(rng.uniform(0.8, 1.6))
        vib = run * v0 * (0.8 + 0.004 * torque) + 0.1
        self.state[eq.node_id] = {
            "run": run,
            "shaft": r["shaft_kw"] * torque / 100.0 * speed,
            "speed": speed,
            "product_temp": product,
        }
        self._put(
            eq,
            TORQUE=Signal(torque, 1.0),
            SPEED=Signal(r["rpm"] * speed, 0.3 + 0.5 * run),
            TEMP=Signal(product, 0.08),
            VIB_RMS=Signal(vib, 0.05 * vib + 0.02),
        )

    def _conveyor(self, eq: Equipment) -> None:
        r, rng, n = eq.rating, self.rng, len(self.t)
        run = self.run_of(eq.line_id)
        load = run * (55.0 + smooth_noise(rng, n, 600, GRID_S, 8.0))
        v0 = float(rng.uniform(1.0, 2.2))
        vib = run * v0 + 0.1
        self.state[eq.node_id] = {"run": run, "shaft": r["shaft_kw"] * (0.3 + 0.7 * load / 100.0) * run, "speed": run}
        self._put(
            eq,
            LOAD=Signal(load, 1.5),
            SPEED=Signal(r["rpm"] * run, 0.5 + 1.0 * run),
            BRG_TEMP_DE=Signal(lag(self.ambient + run * (10.0 + 0.15 * load), 1500.0, GRID_S), 0.08),
            VIB_RMS=Signal(vib, 0.05 * vib + 0.02),
        )

    def _pressure_vessel(self, eq: Equipment) -> None:
        n = len(self.t)
        if eq.role == "air_receiver":
            comps = self.unit_items(eq, "compressor")
            press = self.state[comps[0].node_id]["receiver"] if comps else np.full(n, 7.4)
            drain = sawtooth_phase(self.t.astype(float), 7200.0, float(self.rng.uniform(0, 7200)))
            self._put(
                eq,
                PRESS=Signal(press, 0.01),
                TEMP=Signal(self.ambient + 8.0, 0.1),
                LEVEL=Signal(5.0 + 35.0 * drain, 0.5),
            )
            return
        run = self.run_of(eq.line_id)
        phase = self.phase_of(eq.line_id)
        fill = np.where(phase < 0.1, phase / 0.1, np.where(phase < 0.8, 1.0, 1.0 - (phase - 0.8) / 0.2))
        mixers = self.unit_items(eq, "mixer")
        temp = self.state[mixers[0].node_id]["product_temp"] if mixers else lag(self.ambient + 20.0 * run, 600, GRID_S)
        self._put(
            eq,
            PRESS=Signal(run * (0.3 + 1.2 * phase), 0.01),
            TEMP=Signal(temp + 0.5, 0.08),
            LEVEL=Signal(5.0 + run * 75.0 * fill, 0.4),
        )

    def _heat_exchanger(self, eq: Equipment) -> None:
        r = eq.rating
        pumps = self.unit_items(eq, "pump")
        p = self.state[pumps[0].node_id]
        q_rel = np.clip(p["flow"] / pumps[0].rating["q_nom"], 0.0, 1.5)
        if eq.role == "process_cooler":
            hot_in = lag(36.0 + 7.0 * self.plant_load, 600.0, GRID_S)
        else:
            run = self.run_of(eq.line_id)
            hot_in = lag(self.ambient + run * (23.0 + 10.0 * self.phase_of(eq.line_id)), 300.0, GRID_S)
        cold_in = self.cw_supply
        eff = r["eff"] * q_rel**0.35
        hot_out = lag(hot_in - eff * (hot_in - cold_in), 180.0, GRID_S)
        cold_out = lag(cold_in + 0.7 * (hot_in - hot_out) / np.maximum(q_rel, 0.3), 180.0, GRID_S)
        self._put(
            eq,
            TEMP_HOT_IN=Signal(hot_in, 0.08),
            TEMP_HOT_OUT=Signal(hot_out, 0.08),
            TEMP_COLD_IN=Signal(cold_in, 0.08),
            TEMP_COLD_OUT=Signal(cold_out, 0.08),
            DP=Signal(r["dp_nom"] * q_rel**2, 0.004),
            FLOW_CW=Signal(p["flow"], 0.01 * pumps[0].rating["q_nom"]),
        )

    def _motor(self, eq: Equipment) -> None:
        r, rng = eq.rating, self.rng
        load = self.state[eq.drives or ""]
        run, shaft = load["run"], load["shaft"]
        p_el = shaft / 0.93 + run * 0.02 * r["p_rated"]
        i_act = p_el * 1000.0 / (math.sqrt(3) * 400.0 * 0.9)
        current = run * np.sqrt((0.32 * r["i_rated"]) ** 2 + i_act**2)
        rel = current / r["i_rated"]
        winding = lag(self.ambient + 8.0 * run + 90.0 * rel**2, 1200.0, GRID_S)
        speed = load["speed"] * r["sync_rpm"] * (1.0 - r["slip"] * p_el / r["p_rated"])
        v0 = float(rng.uniform(0.7, 1.5))
        vib = run * v0 + 0.1
        cav = load.get("cav", np.zeros(len(self.t)))
        self._put(
            eq,
            CURRENT=Signal(current, 0.006 * r["i_rated"] * (1.0 + 5.0 * cav)),
            POWER=Signal(p_el, 0.006 * r["p_rated"] * (1.0 + 5.0 * cav)),
            WINDING_TEMP=Signal(winding, 0.1),
            SPEED=Signal(speed, 0.3 + 1.0 * run),
            VIB_RMS=Signal(vib, 0.05 * vib + 0.02),
            BRG_TEMP_DE=Signal(lag(self.ambient + run * (15.0 + 10.0 * rel), 1500.0, GRID_S), 0.08),
            BRG_TEMP_NDE=Signal(lag(self.ambient + run * (12.0 + 8.0 * rel), 1500.0, GRID_S), 0.08),
        )


def grid(tb: Timebase) -> Array:
    """The coarse simulation grid (UTC seconds), covering the period inclusive of its end."""
    return np.arange(tb.t0, tb.t1 + GRID_S, GRID_S, dtype=np.int64)


def _hold(state: Array, steps: int) -> Array:
    """`state` with every run shorter than `steps` grid points merged into the run before it (minimum on/off time)."""
    out = state.copy()
    start = 0
    for i in range(1, len(out) + 1):
        if i == len(out) or out[i] != out[start]:
            if i - start < steps and start > 0:
                out[start:i] = out[start - 1]
            start = i
    return out
