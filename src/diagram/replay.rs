//! PURE replay state: how many steps of the recorded run are shown, and how fast it plays.

/// Speeds offered, as multiples of real time.
pub const SPEEDS: [f64; 5] = [0.25, 0.5, 1.0, 2.0, 4.0];
/// How each of `SPEEDS` is labelled.
pub const SPEED_LABELS: [&str; 5] = ["0.25×", "0.5×", "1×", "2×", "4×"];
/// How long one step's packet travels at 1×, in milliseconds (the CSS uses the same).
pub const STEP_MS: f64 = 700.0;

/// Replay position. `cursor: None` means live: every step is shown as soon as it exists.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Replay {
    /// Number of steps shown while replaying; `None` when following the live run.
    pub cursor: Option<usize>,
    /// Whether the replay advances by itself.
    pub playing: bool,
    /// Playback speed, one of `SPEEDS`.
    pub speed: f64,
}

impl Default for Replay {
    fn default() -> Self {
        Replay {
            cursor: None,
            playing: false,
            speed: 1.0,
        }
    }
}

impl Replay {
    /// How many of `total` steps are visible.
    pub fn visible(&self, total: usize) -> usize {
        self.cursor.map_or(total, |c| c.min(total))
    }

    /// Shows one more step; reaching the end returns to live and stops playing.
    pub fn forward(&mut self, total: usize) {
        let next = self.visible(total) + 1;
        if next >= total {
            self.cursor = None;
            self.playing = false;
        } else {
            self.cursor = Some(next);
        }
    }

    /// Hides the last shown step (never below zero).
    pub fn back(&mut self, total: usize) {
        self.cursor = Some(self.visible(total).saturating_sub(1));
        self.playing = false;
    }

    /// Play/pause; playing from the live end restarts from the first step.
    pub fn toggle(&mut self, total: usize) {
        if self.playing {
            self.playing = false;
            return;
        }
        if self.cursor.is_none() || self.visible(total) >= total {
            self.cursor = Some(0);
        }
        self.playing = true;
    }

    /// Jumps to a position (scrubbing); the end means live.
    pub fn seek(&mut self, position: usize, total: usize) {
        self.cursor = (position < total).then_some(position);
        self.playing = false;
    }

    /// Sets the speed to the nearest offered one.
    pub fn set_speed(&mut self, speed: f64) {
        self.speed = SPEEDS
            .iter()
            .copied()
            .min_by(|a, b| (a - speed).abs().total_cmp(&(b - speed).abs()))
            .unwrap_or(1.0);
    }

    /// Milliseconds between steps at the current speed.
    pub fn interval_ms(&self) -> f64 {
        STEP_MS / self.speed
    }
}

/// Whether row `row` plays its arrival (packet and settle) when the visible count goes from
/// `previous` to `shown`: only the newest row, and only when the run moved forward. Stepping
/// back shows each remaining step in its own settled state, with nothing replaying.
pub fn arrives(previous: usize, shown: usize, row: usize) -> bool {
    shown > previous && row + 1 == shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stepping_back_shows_the_remaining_steps_settled_and_forward_plays_the_newest() {
        let mut replay = Replay {
            cursor: Some(5),
            playing: false,
            speed: 1.0,
        };
        let before = replay.visible(9);
        replay.back(9);
        let after = replay.visible(9);
        assert_eq!(after, 4);
        assert!(
            (0..after).all(|row| !arrives(before, after, row)),
            "Back replays nothing"
        );
        replay.forward(9);
        let again = replay.visible(9);
        assert!(arrives(after, again, 4), "the step shown again arrives");
        assert!((0..4).all(|row| !arrives(after, again, row)));
        // A re-render at the same position (a status change, a speed change) replays nothing.
        assert!(!arrives(again, again, 4));
    }

    #[test]
    fn live_shows_everything_and_replay_starts_from_the_first_step() {
        let mut replay = Replay::default();
        assert_eq!(replay.visible(9), 9);
        replay.toggle(9);
        assert!(replay.playing);
        assert_eq!(replay.visible(9), 0);
    }

    #[test]
    fn forward_to_the_end_returns_to_live_and_stops() {
        let mut replay = Replay {
            cursor: Some(8),
            playing: true,
            speed: 1.0,
        };
        replay.forward(9);
        assert_eq!(replay.cursor, None);
        assert!(!replay.playing);
    }

    #[test]
    fn back_never_goes_below_zero_and_pauses() {
        let mut replay = Replay {
            cursor: Some(0),
            playing: true,
            speed: 1.0,
        };
        replay.back(9);
        assert_eq!(replay.visible(9), 0);
        assert!(!replay.playing);
    }

    #[test]
    fn speed_snaps_to_the_offered_range() {
        let mut replay = Replay::default();
        replay.set_speed(10.0);
        assert_eq!(replay.speed, 4.0);
        replay.set_speed(0.1);
        assert_eq!(replay.speed, 0.25);
        assert_eq!(replay.interval_ms(), STEP_MS * 4.0);
    }

    #[test]
    fn seeking_to_the_end_is_live() {
        let mut replay = Replay::default();
        replay.seek(3, 9);
        assert_eq!(replay.visible(9), 3);
        replay.seek(9, 9);
        assert_eq!(replay.cursor, None);
    }
}
